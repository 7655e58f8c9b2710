#!/bin/bash
# A/B of two server builds on the hot paths, alternating so that drift of the machine
# hits both: per round and binary a fresh server on a temp dir, then GET of one
# ImageStream (wrk -t2 -c64) and single-connection creates (create_load -c 1). Prints
# numbers only (docs/performance.md).
#
#   bench/ab.sh OLD_BINARY NEW_BINARY [ROUNDS=3] [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY [ROUNDS] [SECONDS]" >&2; exit 2; }
A=$1; B=$2; ROUNDS=${3:-3}; SECS=${4:-10}
LOAD=${BENCH_BIN:-build/bench}/create_load
[ -x "$LOAD" ] || { echo "ab: $LOAD missing (make build)" >&2; exit 1; }
obj='{"metadata":{"name":"get-target0","labels":{"app":"bench"}},"spec":{"tags":[{"name":"latest","from":{"kind":"DockerImage","name":"quay.io/example/app:1.0"}}]}}'
G=/apis/image.openshift.io/v1/namespaces
PID=; DIR=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$PID" ] && wait "$PID" 2>/dev/null; [ -n "$DIR" ] && rm -rf "$DIR"; PID=; DIR=; }
trap cleanup EXIT
for round in $(seq "$ROUNDS"); do
  for label in old new; do
    bin=$A; [ $label = new ] && bin=$B
    DIR=$(mktemp -d /tmp/ias-ab.XXXXXX); port=$(( 20000 + RANDOM % 20000 ))
    "$bin" --listen 127.0.0.1:$port --data-dir "$DIR" --log-level warn & PID=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
    curl -sf -XPOST -H 'Content-Type: application/json' -d "$obj" "http://127.0.0.1:$port$G/b/imagestreams" >/dev/null
    get=$(timeout $((SECS + 30)) wrk -t2 -c64 -d"${SECS}s" "http://127.0.0.1:$port$G/b/imagestreams/get-target0" |
          awk '/Requests\/sec/ {print $2}')
    cre=$(timeout $((SECS + 60)) "$LOAD" -u "http://127.0.0.1:$port" -N ab -c 1 -d "$SECS" |
          grep -o 'creates_per_s=[0-9]*' | cut -d= -f2)
    echo "round $round $label: GET $get req/s, create (1 conn) $cre/s"
    cleanup
  done
done
