#!/bin/bash
# Runs every benchmark against a fresh image-apiserver on 127.0.0.1 and prints
# numbers (never pass/fail). Method and recorded results: docs/performance.md.
#
#   bench/run-all.sh            (or: make bench)
#
# Env: IAS_BINARY (server to measure; default: `make build`, build/image-apiserver),
#      BENCH_DURATION (wrk/create seconds, 10), BENCH_REPS (wrk repetitions, 3),
#      BENCH_WATCHERS (1000), BENCH_UPDATES (200), BENCH_INTERVAL_MS (20),
#      BENCH_LIST_N (sequential lists per size, 20), BENCH_SERVER_ARGS (extra flags),
#      BENCH_OUT (also write the summary table to this file), BENCH_KEEP=1 (keep temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${BENCH_DURATION:-10}; REPS=${BENCH_REPS:-3}
WATCHERS=${BENCH_WATCHERS:-1000}; UPDATES=${BENCH_UPDATES:-200}; INTERVAL=${BENCH_INTERVAL_MS:-20}
LIST_N=${BENCH_LIST_N:-20}
PY=/usr/bin/python3
G=/apis/image.openshift.io/v1/namespaces

W=$(mktemp -d /tmp/ias-bench.XXXXXX)
chmod 755 "$W"   # nginx workers run as nobody and must read $W/www
SRV_PID=; NGX_PID=
cleanup() {
  for p in $SRV_PID $NGX_PID; do kill "$p" 2>/dev/null || true; done
  for p in $SRV_PID $NGX_PID; do wait "$p" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url seconds
  local _
  for _ in $(seq 1 $(( $2 * 10 ))); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  return 1
}
median() { sort -g | awk '{v[NR]=$1} END{ if (NR) print v[int((NR+1)/2)]; else print "n/a" }'; }
# wrk latency with unit -> milliseconds
to_ms() { awk '{v=$1; if(v~/us$/){sub(/us$/,"",v);printf "%.3f\n", v/1000} else if(v~/ms$/){sub(/ms$/,"",v);printf "%.3f\n", v} else if(v~/s$/){sub(/s$/,"",v);printf "%.3f\n", v*1000}}'; }
kv() { tr ' ' '\n' | awk -F= -v k="$1" '$1==k{print $2}'; } # value of key=value in a line

# ---- dependencies, server, load generators
scripts/install-deps.sh build test >&2
if [ -z "${IAS_BINARY:-}" ]; then make -s build >&2; IAS_BINARY=$ROOT/build/image-apiserver; fi
[ -x "$IAS_BINARY" ] || { log "no server binary at $IAS_BINARY"; exit 1; }
if [ -x build/bench/create_load ] && [ -x build/bench/watch_fanout ] && [ -x build/bench/list_latency ]; then
  BIN=$ROOT/build/bench
else # bench/meson.build not wired into the build yet: compile directly
  BIN=$W/bin; mkdir -p "$BIN"
  for t in create_load watch_fanout list_latency; do
    cc -std=gnu11 -O2 -D_GNU_SOURCE -o "$BIN/$t" "bench/$t.c" bench/bench_http.c -lpthread -ljansson
  done
fi

# The server and watch_fanout hold >1000 sockets: lift the soft fd limit.
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=65536; [ "$hard" -gt 65536 ] && hard=65536
ulimit -Sn "$hard"

PORT=$(free_port); URL=http://127.0.0.1:$PORT
mkdir -p "$W/data"
# shellcheck disable=SC2086
"$IAS_BINARY" --listen "127.0.0.1:$PORT" --data-dir "$W/data" ${BENCH_SERVER_ARGS:-} >"$W/server.log" 2>&1 &
SRV_PID=$!
if ! wait_http "$URL/readyz" 30; then log "server did not become ready; log:"; tail -20 "$W/server.log" >&2; exit 1; fi
log "server $IAS_BINARY pid $SRV_PID on $URL, data in $W/data"

# ---- seed: one GET target, 1k and 10k objects for LIST (creation rate recorded too)
seed() { # ns count prefix tags
  timeout 300 "$BIN/create_load" -u "$URL" -N "$1" -n "$2" -c 32 -p "$3" -t "$4"
}
seed bench-get 1 get-target 3 >/dev/null
GET_PATH=$G/bench-get/imagestreams/get-target0
S1K=$(seed list1k 1000 item- 2); log "seed 1k: $S1K"
S10K=$(seed list10k 10000 item- 2); log "seed 10k: $S10K"

# ---- nginx ceiling: the same bytes as the server's GET response
mkdir -p "$W/www$(dirname "$GET_PATH")" "$W/ngx/logs" "$W/ngx/temp"
curl -sf -o "$W/www$GET_PATH" "$URL$GET_PATH"
chmod -R a+rX "$W/www"
GET_BYTES=$(stat -c %s "$W/www$GET_PATH")
NPORT=$(free_port)
cat > "$W/ngx/nginx.conf" <<CONF
worker_processes 2;
pid $W/ngx/nginx.pid;
error_log $W/ngx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 10000000; keepalive_timeout 60s;
  client_body_temp_path $W/ngx/temp/body; proxy_temp_path $W/ngx/temp/proxy;
  fastcgi_temp_path $W/ngx/temp/fcgi; uwsgi_temp_path $W/ngx/temp/uwsgi; scgi_temp_path $W/ngx/temp/scgi;
  default_type application/json;
  server { listen 127.0.0.1:$NPORT; root $W/www; }
}
CONF
nginx -p "$W/ngx" -c "$W/ngx/nginx.conf" -g 'daemon off;' 2>"$W/ngx/logs/stderr" &
NGX_PID=$!
wait_http "http://127.0.0.1:$NPORT$GET_PATH" 10 || { log "nginx did not start"; cat "$W/ngx/logs/stderr" >&2; exit 1; }

# ---- wrk: REPS runs, median req/s and median p99 (ms); non-2xx counted
WRK_RESULT=
wrk_runs() { # label threads conns url
  local rps=() p99=() bad=0 out r
  for r in $(seq 1 "$REPS"); do
    out=$(timeout $((DUR + 30)) wrk -t"$2" -c"$3" -d"${DUR}s" --latency "$4") || true
    rps+=("$(echo "$out" | awk '/^Requests\/sec/{print $2}')")
    p99+=("$(echo "$out" | awk '$1=="99%"{print $2}' | to_ms)")
    bad=$((bad + $(echo "$out" | awk '/Non-2xx/{n=$NF} END{print n+0}')))
    log "$1 run $r: ${rps[-1]} req/s, p99 ${p99[-1]} ms"
  done
  WRK_RESULT="$(printf '%s\n' "${rps[@]}" | median) $(printf '%s\n' "${p99[@]}" | median) $bad"
}

ROWS=()
row() { ROWS+=("$(printf '| %s | %s | %s |' "$1" "$2" "$3")"); }

wrk_runs "GET server" 2 64 "$URL$GET_PATH"; read -r a b c <<<"$WRK_RESULT"
row "GET one ImageStream ($GET_BYTES B), wrk -t2 -c64, median of $REPS" "$a req/s" "p99 $b ms, non-2xx $c"
wrk_runs "GET nginx" 2 64 "http://127.0.0.1:$NPORT$GET_PATH"; read -r a b c <<<"$WRK_RESULT"
row "same bytes from nginx (ceiling), wrk -t2 -c64, median of $REPS" "$a req/s" "p99 $b ms, non-2xx $c"
kill "$NGX_PID"; wait "$NGX_PID" 2>/dev/null || true; NGX_PID=

for ns in list1k list10k; do
  out=$(timeout 300 "$BIN/list_latency" -u "$URL" -P "$G/$ns/imagestreams" -n "$LIST_N")
  log "$out"
  row "LIST $ns full (JSON, $(echo "$out" | kv bytes) B), $LIST_N sequential" \
    "p50 $(echo "$out" | kv p50_ms) ms" "p99 $(echo "$out" | kv p99_ms) ms, max $(echo "$out" | kv max_ms) ms"
done
wrk_runs "LIST 1k" 2 16 "$URL$G/list1k/imagestreams"; read -r a b c <<<"$WRK_RESULT"
row "LIST 1k, wrk -t2 -c16, median of $REPS" "$a req/s" "p99 $b ms, non-2xx $c"

row "seed: create 1,000 at 32 conns" "$(echo "$S1K" | kv creates_per_s) creates/s" \
  "p50 $(echo "$S1K" | kv p50_ms) ms, p99 $(echo "$S1K" | kv p99_ms) ms, errors $(echo "$S1K" | kv errors)"
row "seed: create 10,000 at 32 conns" "$(echo "$S10K" | kv creates_per_s) creates/s" \
  "p50 $(echo "$S10K" | kv p50_ms) ms, p99 $(echo "$S10K" | kv p99_ms) ms, errors $(echo "$S10K" | kv errors)"
out=$(timeout $((DUR + 60)) "$BIN/create_load" -u "$URL" -N create -c 32 -d "$DUR"); log "$out"
row "create ImageStream, 32 conns, ${DUR} s" "$(echo "$out" | kv creates_per_s) creates/s" \
  "p50 $(echo "$out" | kv p50_ms) ms, p99 $(echo "$out" | kv p99_ms) ms, errors $(echo "$out" | kv errors)"

out=$(timeout $((UPDATES * INTERVAL / 1000 + 120)) "$BIN/watch_fanout" -u "$URL" -N fanout \
  -w "$WATCHERS" -n "$UPDATES" -i "$INTERVAL" -T 10 | tail -n 1) || true
log "$out"
row "watch fan-out: $WATCHERS watchers x $UPDATES creates every $INTERVAL ms" \
  "p50 $(echo "$out" | kv p50_ms) ms" \
  "p99 $(echo "$out" | kv p99_ms) ms, max $(echo "$out" | kv max_ms) ms, delivered $(echo "$out" | kv deliveries)/$(echo "$out" | kv expected) (from just before the write)"
row "watch fan-out after the write's ack (fan-out alone)" "p50 $(echo "$out" | kv after_ack_p50_ms) ms" \
  "p99 $(echo "$out" | kv after_ack_p99_ms) ms; the durable write itself: p50 $(echo "$out" | kv write_p50_ms) ms, p99 $(echo "$out" | kv write_p99_ms) ms"

RSS=$(ps -o rss= -p "$SRV_PID" | tr -d ' ')
row "server RSS after all runs" "$((RSS / 1024)) MiB" "data dir $(du -sh "$W/data" | cut -f1)"

{
  echo "image-apiserver benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) vCPU, $(uname -r), binary $IAS_BINARY"
  echo "| Benchmark | Result | Detail |"
  echo "|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "${BENCH_OUT:-/dev/null}"
