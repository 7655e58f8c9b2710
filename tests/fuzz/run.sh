#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan + fuzzer) directly from the module
# sources (no meson involvement: the gcc build is untouched), then
#   tests/fuzz/run.sh replay            runs every seed corpus once (fast, for CI)
#   tests/fuzz/run.sh fuzz [SECONDS]    fuzzes each target for SECONDS (default 60)
#   tests/fuzz/run.sh build             only builds
# Optional further arguments name the targets to run (default: all), e.g.
#   tests/fuzz/run.sh fuzz 300 fuzz_yaml fuzz_patch
# Env: CC (default clang), FUZZ_OUT (default build-fuzz/fuzzers), FUZZ_JOBS (parallel
# compiles, default nproc), FUZZ_WERROR (default 1: warnings are errors). Findings land in $FUZZ_OUT/artifacts/; inputs found while
# fuzzing go to $FUZZ_OUT/corpus/<target>/ (the checked-in seeds are never modified).
set -euo pipefail
cd "$(dirname "$0")/../.."

MODE=${1:-replay}
shift || true
SECONDS_PER=60
if [ "$MODE" = fuzz ] && [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  SECONDS_PER=$1
  shift
fi
case "$MODE" in replay|fuzz|build) ;; *) echo "usage: $0 replay|fuzz [seconds]|build [target...]" >&2; exit 2 ;; esac

CC=${CC:-clang}
OUT=${FUZZ_OUT:-build-fuzz/fuzzers}
JOBS=${FUZZ_JOBS:-$(nproc)}
ALL_TARGETS=(fuzz_label_selector fuzz_field_selector fuzz_options fuzz_yaml fuzz_schema_decode
             fuzz_patch fuzz_docker_ref fuzz_image_metadata fuzz_imagestream
             fuzz_route fuzz_content_negotiation fuzz_signature fuzz_signature_gpg
             fuzz_registry_auth fuzz_registry_manifest)
# Targets that also link the rest of the server (libias_fuzz_api.a): what they call lives in
# api/ files that reach the store and the HTTP layer (request.c, kinds.c, image_kinds.c).
API_TARGETS=" fuzz_route fuzz_content_negotiation "
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

command -v "$CC" >/dev/null || { echo "run.sh: $CC not found (install clang)" >&2; exit 1; }

# The pure modules the parsers live in (no HTTP, no store): libias_fuzz.a. Every target
# links only this unless listed in API_TARGETS. The image/ files that call the object API
# or the call context (the kind table's hooks, the virtual resources' handlers: image/
# sits above api/) are not pure; they are found by what they call.
PURE_SRCS=(src/util/*.c src/schema/*.c $(grep -L 'curl/curl.h' src/importer/*.c)
           $(grep -L -e 'api_obj_' -e 'api_call_' -e 'api_kind_find' -e 'api_authorize' -e 'api_view' \
               -e 'api_meta_prepare' src/image/*.c)
           src/api/selector.c src/api/options.c src/api/objectmeta.c
           src/api/patch_merge.c src/api/patch_json.c src/api/patch_strategic.c
           src/api/managed_fields.c src/api/fieldset.c src/api/apply.c src/api/apply_last_applied.c src/api/yaml.c)
# Everything else but main.c: libias_fuzz_api.a (the linker takes only the members a
# target needs, but those reach the store and the transport).
API_SRCS=()
for s in src/api/*.c src/image/*.c src/server/*.c src/storage/*.c; do
  [[ " ${PURE_SRCS[*]} " == *" $s "* ]] || API_SRCS+=("$s")
done
PKGS="jansson yaml-0.1 openssl uuid gpgme"
API_PKGS="libh2o-evloop sqlite3 libcurl zlib"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# The warnings of meson's warning_level=2 (-Wall -Wextra, less the two meson.build turns off).
WARN="-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"
[ "${FUZZ_WERROR:-1}" = 1 ] && WARN="$WARN -Werror"
CFLAGS="-std=gnu11 -g -O1 $SAN $WARN -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -DIAS_VERSION=\"fuzz\" -Isrc -Itests/fuzz \
  $(pkg-config --cflags $PKGS $API_PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm -lpthread"
API_LIBS="$(pkg-config --libs $API_PKGS)"

mkdir -p "$OUT/obj" "$OUT/artifacts"
# other flags (e.g. FUZZ_WERROR, CC) than the objects were built with: rebuild them all
if [ "$(cat "$OUT/flags" 2>/dev/null)" != "$CC $CFLAGS" ]; then
  rm -f "$OUT"/obj/*.o "$OUT"/*.a
  echo "$CC $CFLAGS" >"$OUT/flags"
fi

# ---- build: objects (rebuilt when the source or any header is newer), archives, targets
newest_header=$(find src -name '*.h' -printf '%T@\n' | sort -n | tail -1)
newest_header=${newest_header%.*}
obj_of() { echo "$OUT/obj/$(echo "$1" | tr / _).o"; }
# compile_set ARCHIVE SOURCES...: (re)compiles the stale objects, (re)builds the archive
compile_set() {
  local ar=$1 s o stale=() objs=()
  shift
  for s in "$@"; do
    o=$(obj_of "$s")
    objs+=("$o")
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$(stat -c %Y "$o")" -lt "$newest_header" ]; then
      stale+=("$s")
    fi
  done
  if [ ${#stale[@]} -gt 0 ]; then
    echo "run.sh: compiling ${#stale[@]} module sources with $CC for $(basename "$ar")"
    # CFLAGS word-split as at the link below (not re-parsed: -DIAS_VERSION keeps its quotes)
    printf '%s\n' "${stale[@]}" | FUZZ_CC=$CC FUZZ_CFLAGS=$CFLAGS xargs -P "$JOBS" -I{} sh -c \
      'o="$1/obj/$(echo "$2" | tr / _).o"; $FUZZ_CC -fsanitize=fuzzer-no-link $FUZZ_CFLAGS -c "$2" -o "$o" || exit 255' \
      _ "$OUT" {}
    rm -f "$ar"
  fi
  # members are exactly the set's objects (a source moved between sets leaves no stale copy)
  if [ -f "$ar" ] && [ "$(ar t "$ar" | sort)" != "$(printf '%s\n' "${objs[@]##*/}" | sort)" ]; then
    rm -f "$ar"
  fi
  if [ ! -f "$ar" ]; then
    ar rcs "$ar" "${objs[@]}"
  fi
}
compile_set "$OUT/libias_fuzz.a" "${PURE_SRCS[@]}"
need_api=false
for t in "${TARGETS[@]}"; do [[ $API_TARGETS == *" $t "* ]] && need_api=true; done
$need_api && compile_set "$OUT/libias_fuzz_api.a" "${API_SRCS[@]}"
for t in "${TARGETS[@]}"; do
  src=tests/fuzz/$t.c
  [ -f "$src" ] || { echo "run.sh: no such target $t" >&2; exit 2; }
  archives=("$OUT/libias_fuzz.a")
  libs=$LIBS
  if [[ $API_TARGETS == *" $t "* ]]; then
    archives=("$OUT/libias_fuzz_api.a" "$OUT/libias_fuzz.a")
    libs="$API_LIBS $LIBS"
  fi
  relink=false
  for f in "$src" tests/fuzz/fuzz_common.h "${archives[@]}"; do
    if [ ! -x "$OUT/$t" ] || [ "$f" -nt "$OUT/$t" ]; then relink=true; fi
  done
  if $relink; then
    echo "run.sh: linking $t"
    # shellcheck disable=SC2086
    $CC -fsanitize=fuzzer $CFLAGS "$src" "${archives[@]}" $libs -o "$OUT/$t"
  fi
done
[ "$MODE" = build ] && exit 0

# ---- run
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0
for t in "${TARGETS[@]}"; do
  seeds=tests/fuzz/corpus/$t
  mkdir -p "$seeds"
  common=(-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$OUT/artifacts/$t-")
  [ -f "tests/fuzz/$t.dict" ] && common+=(-dict="tests/fuzz/$t.dict")
  if [ "$MODE" = replay ]; then
    n=$(find "$seeds" -type f | wc -l)
    printf '== %-24s replay %3d inputs ... ' "$t" "$n"
    if [ "$n" -eq 0 ] || "$OUT/$t" "${common[@]}" $(find "$seeds" -type f | sort) >"$OUT/$t.log" 2>&1; then
      echo ok
    else
      echo "FAILED (see $OUT/$t.log)"; tail -40 "$OUT/$t.log"; fail=1
    fi
  else
    work=$OUT/corpus/$t
    mkdir -p "$work"
    echo "== $t: fuzzing for ${SECONDS_PER}s (log $OUT/$t.log)"
    if "$OUT/$t" "${common[@]}" -max_total_time="$SECONDS_PER" -print_final_stats=1 \
         "$work" "$seeds" >"$OUT/$t.log" 2>&1; then
      grep -E '^stat::(number_of_executed_units|new_units_added)|cov:' "$OUT/$t.log" | tail -3 || true
    else
      echo "   FAILED: crash/leak/UB, see $OUT/$t.log and $OUT/artifacts/"; tail -60 "$OUT/$t.log"; fail=1
    fi
  fi
done
[ $fail -eq 0 ] && echo "run.sh: $MODE ok" || echo "run.sh: $MODE FAILED"
exit $fail
