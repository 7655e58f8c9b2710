#!/bin/bash
# `make test`: installs dependencies, builds with ASan+UBSan and warnings as errors, runs
# the cmocka unit suite, the pytest end-to-end suite and the fuzz corpus replay, and ends
# with exactly one closing line `N passed, N failed` (scripts/summarize-tests.py). Exits
# non-zero on any failure.
#
# Env: IAS_TEST_BUILD (build dir, default build-asan), IAS_E2E_TIMEOUT (seconds for
# the whole e2e suite, default 3600), IAS_KUBECTL (kubectl path; empty = e2e tests
# needing kubectl skip; default: kubectl found in PATH), PYTEST_ARGS (extra args).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

B=${IAS_TEST_BUILD:-build-asan}
PY=/usr/bin/python3   # Debian's python3 with python3-pytest etc. (PATH may hold another)
SUMMARY_FILE=$B/test-summary.txt

# A step before the tests failed: still close with the counting line.
die() {
  echo "run-tests: $*" >&2
  mkdir -p "$B" && echo "0 passed, 1 failed" > "$SUMMARY_FILE"
  echo "0 passed, 1 failed"
  exit 1
}

scripts/install-deps.sh build test || die "installing dependencies failed"

# Warnings are errors here (not in `make build`: other compilers must still build it).
if [ ! -f "$B/build.ninja" ]; then
  meson setup "$B" --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    -Dwerror=true || die "meson setup $B failed"
else
  # modules and test folders are found by fs.exists() at configure time: pick up new ones;
  # -Dwerror=true also for a build dir configured before it was set
  meson setup --reconfigure "$B" -Dwerror=true >/dev/null || die "meson setup --reconfigure $B failed"
fi
ninja -C "$B" || die "build failed (ninja -C $B)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== unit tests (meson test -C $B --suite unit)"
rm -f "$B/meson-logs/testlog.json"
meson test -C "$B" --suite unit --print-errorlogs
unit_rc=$?

junit=$B/pytest-junit.xml
rm -f "$junit"
pytest_rc_arg=()
if [ -d tests/e2e ]; then
  echo "== end-to-end tests (pytest tests/e2e)"
  export IAS_BINARY=$PWD/$B/image-apiserver
  export IAS_KUBECTL=${IAS_KUBECTL-$(command -v kubectl || true)}
  [ -n "$IAS_KUBECTL" ] || echo "run-tests: kubectl not found; e2e tests needing it will skip" >&2
  # shellcheck disable=SC2086
  timeout -k 30 "${IAS_E2E_TIMEOUT:-3600}" "$PY" -m pytest -q -rfEs -p no:cacheprovider \
    --junitxml="$junit" tests/e2e ${PYTEST_ARGS:-} </dev/null
  pytest_rc_arg=(--pytest-rc "$?")
fi

fuzz_arg=()
if command -v clang >/dev/null 2>&1; then
  echo "== fuzz corpus replay (tests/fuzz/run.sh replay)"
  tests/fuzz/run.sh replay 2>&1 | tee "$B/fuzz-replay.log"
  fuzz_arg=(--fuzz-log "$B/fuzz-replay.log")
else
  echo "run-tests: clang not found; fuzz corpus replay skipped" >&2
fi

echo "== summary"
"$PY" scripts/summarize-tests.py --meson-log "$B/meson-logs/testlog.json" --unit-rc "$unit_rc" \
  --junit "$junit" "${pytest_rc_arg[@]}" "${fuzz_arg[@]}" --out "$SUMMARY_FILE"
