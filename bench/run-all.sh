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
#      BENCH_OUT (also write the summary table to this file), BENCH_KEEP=1 (keep temp dir),
#      BENCH_BACKEND: embedded (default), etcd (one server on a private etcd started
#      here) or etcd2 (two servers on that etcd, one prefix; the load is spread over
#      both: the C tools take both URLs and go round-robin per connection/watch,
#      GET/LIST wrk runs one wrk per server at once with half the threads and
#      connections each and sums req/s). BENCH_ETCD (etcd binary, /usr/bin/etcd).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${BENCH_DURATION:-10}; REPS=${BENCH_REPS:-3}
WATCHERS=${BENCH_WATCHERS:-1000}; UPDATES=${BENCH_UPDATES:-200}; INTERVAL=${BENCH_INTERVAL_MS:-20}
LIST_N=${BENCH_LIST_N:-20}
BACKEND=${BENCH_BACKEND:-embedded}
case $BACKEND in embedded) NSRV=1 ;; etcd) NSRV=1 ;; etcd2) NSRV=2 ;;
  *) echo "bench: BENCH_BACKEND must be embedded, etcd or etcd2" >&2; exit 2 ;; esac
PY=/usr/bin/python3
G=/apis/image.openshift.io/v1/namespaces

W=$(mktemp -d /tmp/ias-bench.XXXXXX)
chmod 755 "$W"   # nginx workers run as nobody and must read $W/www
SRV_PIDS=; NGX_PID=; ETCD_PID=
cleanup() {
  # servers first: they hold connections to etcd
  for p in $SRV_PIDS $NGX_PID; do kill "$p" 2>/dev/null || true; done
  for p in $SRV_PIDS $NGX_PID; do wait "$p" 2>/dev/null || true; done
  if [ -n "$ETCD_PID" ]; then kill "$ETCD_PID" 2>/dev/null || true; wait "$ETCD_PID" 2>/dev/null || true; fi
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
. bench/etcd-lib.sh

# ---- dependencies, server, load generators
scripts/install-deps.sh build test >&2
if [ -z "${IAS_BINARY:-}" ]; then make -s build >&2; IAS_BINARY=$ROOT/build/image-apiserver; fi
[ -x "$IAS_BINARY" ] || { log "no server binary at $IAS_BINARY"; exit 1; }
if [ -n "${BENCH_BIN:-}" ]; then # load generators from another build dir
  BIN=$BENCH_BIN
elif [ -x build/bench/create_load ] && [ -x build/bench/watch_fanout ] && [ -x build/bench/list_latency ] &&
     [ -x build/bench/mapping_load ]; then
  BIN=$ROOT/build/bench
else # bench/meson.build not wired into the build yet: compile directly
  BIN=$W/bin; mkdir -p "$BIN"
  for t in create_load watch_fanout list_latency mapping_load; do
    cc -std=gnu11 -O2 -D_GNU_SOURCE -o "$BIN/$t" "bench/$t.c" bench/bench_http.c -lpthread -ljansson
  done
fi

# The server and watch_fanout hold >1000 sockets: lift the soft fd limit.
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=65536; [ "$hard" -gt 65536 ] && hard=65536
ulimit -Sn "$hard"

# Both stores write under $W (mktemp in /tmp): the same disk for a fair comparison.
mkdir -p "$W/data"
STORE_ARGS=(--data-dir "$W/data"); DATA_DIR=$W/data
if [ "$BACKEND" != embedded ]; then
  etcd_start "$W"
  log "etcd $(etcd_version) pid $ETCD_PID on $ETCD_URL, data in $W/etcd-data"
  STORE_ARGS+=(--etcd-servers "$ETCD_URL" --etcd-prefix "/ias-bench-$$"); DATA_DIR=$W/etcd-data
fi
URLS=()
for i in $(seq 1 "$NSRV"); do
  PORT=$(free_port); u=http://127.0.0.1:$PORT
  # shellcheck disable=SC2086
  "$IAS_BINARY" --listen "127.0.0.1:$PORT" "${STORE_ARGS[@]}" ${BENCH_SERVER_ARGS:-} >"$W/server$i.log" 2>&1 &
  SRV_PIDS="$SRV_PIDS $!"
  if ! wait_http "$u/readyz" 30; then log "server $i did not become ready; log:"; tail -20 "$W/server$i.log" >&2; exit 1; fi
  log "server $i: $IAS_BINARY pid $! on $u ($BACKEND)"
  URLS+=("$u")
done
URL=${URLS[0]}                       # single-connection work: GET bytes, nginx copy
ALL=$(IFS=,; echo "${URLS[*]}")      # what the C load tools get

# ---- seed: one GET target, 1k and 10k objects for LIST (creation rate recorded too)
seed() { # ns count prefix tags
  timeout 300 "$BIN/create_load" -u "$ALL" -N "$1" -n "$2" -c 32 -p "$3" -t "$4"
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

# ---- wrk: REPS runs, median req/s and median p99 (ms); non-2xx counted.
# Several base URLs (comma-separated): one wrk per server at the same time, each
# with threads/n and conns/n; req/s summed, p99 the worst of them.
WRK_RESULT=
wrk_runs() { # label threads conns base[,base] path
  local rps=() p99=() bad=0 out r bases k n pids
  IFS=, read -r -a bases <<<"$4"; n=${#bases[@]}
  for r in $(seq 1 "$REPS"); do
    pids=()
    for k in $(seq 0 $((n - 1))); do
      timeout $((DUR + 30)) wrk -t$(( ($2 + n - 1) / n )) -c$(($3 / n)) -d"${DUR}s" --latency \
        "${bases[$k]}$5" >"$W/wrk.$k" 2>&1 &
      pids+=($!)
    done
    for k in "${pids[@]}"; do wait "$k" || true; done
    out=$(cat "$W"/wrk.*); rm -f "$W"/wrk.*
    rps+=("$(echo "$out" | awk '/^Requests\/sec/{s+=$2} END{printf "%.2f\n", s}')")
    p99+=("$(echo "$out" | awk '$1=="99%"{print $2}' | to_ms | sort -g | tail -n 1)")
    bad=$((bad + $(echo "$out" | awk '/Non-2xx/{n+=$NF} END{print n+0}')))
    log "$1 run $r: ${rps[-1]} req/s, p99 ${p99[-1]} ms"
  done
  WRK_RESULT="$(printf '%s\n' "${rps[@]}" | median) $(printf '%s\n' "${p99[@]}" | median) $bad"
}

ROWS=()
row() { ROWS+=("$(printf '| %s | %s | %s |' "$1" "$2" "$3")"); }

wrk_runs "GET server" 2 64 "$ALL" "$GET_PATH"; read -r a b c <<<"$WRK_RESULT"
row "GET one ImageStream ($GET_BYTES B), wrk -t2 -c64 over $NSRV server(s), median of $REPS" "$a req/s" "p99 $b ms, non-2xx $c"
wrk_runs "GET nginx" 2 64 "http://127.0.0.1:$NPORT" "$GET_PATH"; read -r a b c <<<"$WRK_RESULT"
row "same bytes from nginx (ceiling), wrk -t2 -c64, median of $REPS" "$a req/s" "p99 $b ms, non-2xx $c"
kill "$NGX_PID"; wait "$NGX_PID" 2>/dev/null || true; NGX_PID=

for ns in list1k list10k; do
  out=$(timeout 300 "$BIN/list_latency" -u "$ALL" -P "$G/$ns/imagestreams" -n "$LIST_N")
  log "$out"
  row "LIST $ns full (JSON, $(echo "$out" | kv bytes) B), $LIST_N sequential" \
    "p50 $(echo "$out" | kv p50_ms) ms" "p99 $(echo "$out" | kv p99_ms) ms, max $(echo "$out" | kv max_ms) ms"
done
wrk_runs "LIST 1k" 2 16 "$ALL" "$G/list1k/imagestreams"; read -r a b c <<<"$WRK_RESULT"
row "LIST 1k, wrk -t2 -c16, median of $REPS" "$a req/s" "p99 $b ms, non-2xx $c"

row "seed: create 1,000 at 32 conns" "$(echo "$S1K" | kv creates_per_s) creates/s" \
  "p50 $(echo "$S1K" | kv p50_ms) ms, p99 $(echo "$S1K" | kv p99_ms) ms, errors $(echo "$S1K" | kv errors)"
row "seed: create 10,000 at 32 conns" "$(echo "$S10K" | kv creates_per_s) creates/s" \
  "p50 $(echo "$S10K" | kv p50_ms) ms, p99 $(echo "$S10K" | kv p99_ms) ms, errors $(echo "$S10K" | kv errors)"
for c in 1 32; do
  out=$(timeout $((DUR + 60)) "$BIN/create_load" -u "$ALL" -N create -c "$c" -d "$DUR"); log "$out"
  row "create ImageStream, $c conn(s), ${DUR} s" "$(echo "$out" | kv creates_per_s) creates/s" \
    "p50 $(echo "$out" | kv p50_ms) ms, p99 $(echo "$out" | kv p99_ms) ms, errors $(echo "$out" | kv errors)"
done

out=$(timeout $((UPDATES * INTERVAL / 1000 + 120)) "$BIN/watch_fanout" -u "$ALL" -N fanout \
  -w "$WATCHERS" -n "$UPDATES" -i "$INTERVAL" -T 10 | tail -n 1) || true
log "$out"
row "watch fan-out: $WATCHERS watchers x $UPDATES creates every $INTERVAL ms" \
  "p50 $(echo "$out" | kv p50_ms) ms" \
  "p99 $(echo "$out" | kv p99_ms) ms, max $(echo "$out" | kv max_ms) ms, delivered $(echo "$out" | kv deliveries)/$(echo "$out" | kv expected) (from just before the write)"
row "watch fan-out after the write's ack (fan-out alone)" "p50 $(echo "$out" | kv after_ack_p50_ms) ms" \
  "p99 $(echo "$out" | kv after_ack_p99_ms) ms; the durable write itself: p50 $(echo "$out" | kv write_p50_ms) ms, p99 $(echo "$out" | kv write_p99_ms) ms"
if [ "$NSRV" -gt 1 ]; then
  row "watch fan-out: deliveries on the server not taking the writes" "p50 $(echo "$out" | kv remote_p50_ms) ms" \
    "p99 $(echo "$out" | kv remote_p99_ms) ms, max $(echo "$out" | kv remote_max_ms) ms, $(echo "$out" | kv remote_deliveries) deliveries"
fi

# ---- the tag model (issue 8): istag GET, mapping creates, isimage lookups (bench/tags_bench.sh)
if TAGS_ROWS=$(TAGS_BENCH_URL=$ALL BENCH_BIN=$BIN BENCH_DURATION=$DUR BENCH_REPS=$REPS bench/tags_bench.sh); then
  while IFS= read -r line; do [ -n "$line" ] && ROWS+=("$line"); done <<<"$TAGS_ROWS"
else
  log "tags_bench.sh failed"; row "tag model benchmarks (bench/tags_bench.sh)" "failed" "see the log above"
fi

for p in $SRV_PIDS; do
  RSS=$(ps -o rss= -p "$p" | tr -d ' ')
  row "server RSS after all runs (pid $p)" "$((RSS / 1024)) MiB" "data dir $(du -sh "$DATA_DIR" | cut -f1)"
done
if [ -n "$ETCD_PID" ]; then
  RSS=$(ps -o rss= -p "$ETCD_PID" | tr -d ' ')
  row "etcd RSS after all runs" "$((RSS / 1024)) MiB" "etcd $(etcd_version)"
fi

{
  echo "image-apiserver benchmarks, backend $BACKEND ($NSRV server(s)), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) vCPU, $(uname -r), binary $IAS_BINARY"
  echo "| Benchmark | Result | Detail |"
  echo "|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "${BENCH_OUT:-/dev/null}"
