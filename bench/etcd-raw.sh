#!/bin/bash
# etcd's own put/range rates on this machine, through the JSON gateway over
# libcurl (bench/etcd_raw.c, what the server uses) and through etcd's Go client
# over gRPC (bench/etcd_grpc, built offline from Debian's golang-etcd-server-dev
# when `go` and its sources are installed; skipped otherwise). Starts a private
# etcd on free 127.0.0.1 ports with its data dir in a mktemp dir under /tmp,
# prints numbers (never pass/fail) and stops etcd. Results: docs/performance.md,
# docs/etcd-client.md.
#
#   bench/etcd-raw.sh
#
# Env: BENCH_BIN (dir with etcd_raw; default build/bench), BENCH_DURATION (s per
#      cell, 5), BENCH_REPS (3; medians), BENCH_CONNS ("1 32"), BENCH_VALUE (1024),
#      BENCH_KEYS (keys in the prefix range, 1000), BENCH_ETCD (/usr/bin/etcd),
#      BENCH_OUT (also write the table here), BENCH_KEEP=1 (keep the temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${BENCH_DURATION:-5}; REPS=${BENCH_REPS:-3}; CONNS=${BENCH_CONNS:-1 32}
VAL=${BENCH_VALUE:-1024}; KEYS=${BENCH_KEYS:-1000}
BIN=${BENCH_BIN:-$ROOT/build/bench}
PY=/usr/bin/python3
[ -x "$BIN/etcd_raw" ] || { echo "bench: no $BIN/etcd_raw (build first, or set BENCH_BIN)" >&2; exit 1; }

W=$(mktemp -d /tmp/ias-etcd-raw.XXXXXX)
ETCD_PID=
cleanup() {
  if [ -n "$ETCD_PID" ]; then kill "$ETCD_PID" 2>/dev/null || true; wait "$ETCD_PID" 2>/dev/null || true; fi
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "bench: $*" >&2; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{v[NR]=$1} END{ if (NR) print v[int((NR+1)/2)]; else print "n/a" }'; }
kv() { tr ' ' '\n' | awk -F= -v k="$1" '$1==k{print $2}'; }
. bench/etcd-lib.sh

# ---- the gRPC tool: etcd's clientv3 from Debian's Go sources, no network
scripts/install-deps.sh build test bench >&2 || log "could not install golang-go/golang-etcd-server-dev"
GRPC=
if [ -x "$BIN/etcd_grpc" ]; then
  GRPC=$BIN/etcd_grpc
elif command -v go >/dev/null && [ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ]; then
  log "building etcd_grpc (offline, GOPATH=/usr/share/gocode)"
  if GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS='' GOCACHE=$W/gocache \
     go build -o "$W/etcd_grpc" ./bench/etcd_grpc >&2; then GRPC=$W/etcd_grpc; fi
fi
[ -n "$GRPC" ] || log "no etcd_grpc (needs golang-go and golang-etcd-server-dev): gateway only"

etcd_start "$W"
log "etcd $(etcd_version) pid $ETCD_PID on $ETCD_URL, data in $W/etcd-data ($(df -T "$W" | awk 'NR==2{print $2}'))"
"$BIN/etcd_raw" -u "$ETCD_URL" -o seed -c 8 -k "$KEYS" -s "$VAL" >/dev/null

# Writes leave history behind: drop it between cells so every cell starts alike.
reset_writes() {
  local rev
  for p in put txn; do
    curl -sf -o /dev/null -X POST "$ETCD_URL/v3/kv/deleterange" \
      -d "{\"key\":\"$(printf '/bench-raw/%s/' $p | base64 -w0)\",\"range_end\":\"$(printf '/bench-raw/%s0' $p | base64 -w0)\"}"
  done
  rev=$(curl -sf -X POST "$ETCD_URL/v3/kv/range" -d '{"key":"AA=="}' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
  curl -sf -o /dev/null -X POST "$ETCD_URL/v3/kv/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}"
}

# one cell: api op conns -> appends "ops/s p50 p99 errors etcd-us/op client-us/op"
# to $W/res.<api>.<op>.<conns>
cell() {
  local api=$1 op=$2 c=$3 out e0 e1
  e0=$(proc_cpu_s "$ETCD_PID")
  case $api in
    gateway) out=$("$BIN/etcd_raw" -u "$ETCD_URL" -o "$op" -c "$c" -d "$DUR" -s "$VAL" -k "$KEYS") ;;
    unparsed) out=$("$BIN/etcd_raw" -u "$ETCD_URL" -o "$op" -c "$c" -d "$DUR" -s "$VAL" -k "$KEYS" -R) ;;
    grpc) out=$("$GRPC" -u "$ETCD_URL" -o "$op" -c "$c" -d "$DUR" -s "$VAL" -k "$KEYS" 2>>"$W/grpc.err") ;;
  esac
  e1=$(proc_cpu_s "$ETCD_PID")
  log "$out etcd_cpu_s=$(awk -v a="$e0" -v b="$e1" 'BEGIN{printf "%.2f", b - a}')"
  echo "$(echo "$out" | kv ops_per_s) $(echo "$out" | kv p50_ms) $(echo "$out" | kv p99_ms) $(echo "$out" | kv errors)" \
    "$(awk -v a="$e0" -v b="$e1" -v n="$(echo "$out" | kv ops)" 'BEGIN{printf "%.0f", n ? (b - a) * 1e6 / n : 0}')" \
    "$(awk -v c="$(echo "$out" | kv cpu_s)" -v n="$(echo "$out" | kv ops)" 'BEGIN{printf "%.0f", n ? c * 1e6 / n : 0}')" \
    >>"$W/res.$api.$op.$c"
  case $op in put|txn) reset_writes ;; esac
}

APIS="gateway"; [ -n "$GRPC" ] && APIS="$APIS grpc"
for r in $(seq 1 "$REPS"); do
  [ -n "$GRPC" ] && APIS=$( ((r % 2)) && echo "gateway grpc" || echo "grpc gateway")  # alternate who goes first
  for op in put txn get prefix; do
    for c in $CONNS; do
      for api in $APIS; do cell "$api" "$op" "$c"; done
      case $op in get|prefix) cell unparsed "$op" "$c" ;; esac
    done
  done
done

fmt() { # api op conns -> medians over reps: ops/s, latency, CPU per operation
  local f=$W/res.$1.$2.$3
  [ -f "$f" ] || { echo "-"; return; }
  printf '%s/s; p50 %s, p99 %s ms; CPU/op etcd %s µs + client %s µs' "$(awk '{print $1}' "$f" | median)" \
    "$(awk '{print $2}' "$f" | median)" "$(awk '{print $3}' "$f" | median)" \
    "$(awk '{print $5}' "$f" | median)" "$(awk '{print $6}' "$f" | median)"
  awk '{e+=$4} END{if (e) printf "; %d errors", e}' "$f"
}
{
  echo "etcd $(etcd_version) raw rates, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) vCPU, $(uname -r), data dir on $(df -T "$W" | awk 'NR==2{print $2}'), value $VAL B, ${DUR} s per cell, median of $REPS"
  echo "| Operation | Conns | JSON gateway + libcurl (parsed) | gateway, answer not parsed | gRPC, Go clientv3 (1 conn) |"
  echo "|---|---|---|---|---|"
  for op in put txn get prefix; do
    case $op in
      put) name="put (unique keys)" ;; txn) name="txn create-if-absent + put" ;;
      get) name="range, 1 key (linearizable)" ;; prefix) name="range, prefix of $KEYS keys (linearizable)" ;;
    esac
    for c in $CONNS; do
      echo "| $name | $c | $(fmt gateway $op "$c") | $(fmt unparsed $op "$c") | $(fmt grpc $op "$c") |"
    done
  done
} | tee "${BENCH_OUT:-/dev/null}"
