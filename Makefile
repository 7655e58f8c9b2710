# The two commands: `make run` (build and serve on 127.0.0.1:8080, data in ./data)
# and `make test` (ASan/UBSan build, unit + end-to-end tests, closing line
# `N passed, N failed`). Both install missing Debian packages first (as root).
BUILD_DIR ?= build
LISTEN    ?= 127.0.0.1:8080
DATA_DIR  ?= ./data
ARGS      ?=

.PHONY: all build run test bench fuzz clean

all: build

build:
	scripts/install-deps.sh build
	@test -f $(BUILD_DIR)/build.ninja || \
	  meson setup $(BUILD_DIR) --buildtype=debugoptimized -Db_sanitize=none
	ninja -C $(BUILD_DIR)
	@# modules are found by fs.exists() at configure time: a stale build dir misses new ones
	@test -x $(BUILD_DIR)/image-apiserver || \
	  { meson setup --reconfigure $(BUILD_DIR) >/dev/null && ninja -C $(BUILD_DIR); }
	@test -x $(BUILD_DIR)/image-apiserver || \
	  { echo "make: $(BUILD_DIR)/image-apiserver was not built" >&2; exit 1; }

run: build
	mkdir -p $(DATA_DIR)
	exec $(BUILD_DIR)/image-apiserver --listen $(LISTEN) --data-dir $(DATA_DIR) $(ARGS)

test:
	@scripts/run-tests.sh

bench:
	bench/run-all.sh

# libFuzzer targets (clang); docs/fuzzing.md. `tests/fuzz/run.sh replay` replays the corpora only.
fuzz:
	tests/fuzz/run.sh fuzz $${FUZZ_SECONDS:-60}

clean:
	rm -rf $(BUILD_DIR) build-asan
