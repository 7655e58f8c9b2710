#!/bin/bash
# The tag model's benchmarks (issue 8): ImageStreamTag GET next to ImageStream GET,
# ImageStreamMapping creates/s at 32 connections (each a new image and a tag event), and
# ImageStreamImage prefix lookups on a stream with 10,000 history entries. Prints Markdown
# table rows (| Benchmark | Result | Detail |) on stdout, progress on stderr; never
# pass/fail. What each number means: docs/performance.md ("Tag model").
#
#   bench/tags_bench.sh                                   a server of its own (embedded store)
#   TAGS_BENCH_URL=http://127.0.0.1:PORT[,URL] bench/tags_bench.sh    servers already running
#                                                         (bench/run-all.sh does this)
#
# Env: IAS_BINARY (server when starting one; default build/image-apiserver), BENCH_DURATION
#      (seconds per run, 10), BENCH_REPS (wrk repetitions, 3), BENCH_BIN (directory holding
#      mapping_load; else build/bench, else compiled here), BENCH_KEEP=1 (keep the temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${BENCH_DURATION:-10}; REPS=${BENCH_REPS:-3}
PY=/usr/bin/python3
NS=bench-tags
W=$(mktemp -d /tmp/ias-tags-bench.XXXXXX)
SRV_PID=
cleanup() {
  if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; fi
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "tags bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "tags bench: $*" >&2; }
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
median() { sort -g | awk '{v[NR]=$1} END{ if (NR) print v[int((NR+1)/2)]; else print "n/a" }'; }
to_ms() { awk '{v=$1; if(v~/us$/){sub(/us$/,"",v);printf "%.3f\n", v/1000} else if(v~/ms$/){sub(/ms$/,"",v);printf "%.3f\n", v} else if(v~/s$/){sub(/s$/,"",v);printf "%.3f\n", v*1000}}'; }
kv() { tr ' ' '\n' | awk -F= -v k="$1" '$1==k{print $2}'; }

# ---- servers and the load generator
if [ -n "${TAGS_BENCH_URL:-}" ]; then
  ALL=$TAGS_BENCH_URL
else
  IAS_BINARY=${IAS_BINARY:-$ROOT/build/image-apiserver}
  [ -x "$IAS_BINARY" ] || { log "no server binary at $IAS_BINARY (make build, or set IAS_BINARY)"; exit 1; }
  PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$W/data"
  "$IAS_BINARY" --listen "127.0.0.1:$PORT" --data-dir "$W/data" >"$W/server.log" 2>&1 &
  SRV_PID=$!
  ALL=http://127.0.0.1:$PORT
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$ALL/readyz" && break; sleep 0.1; done
  curl -sf -o /dev/null "$ALL/readyz" || { log "server did not become ready"; tail -20 "$W/server.log" >&2; exit 1; }
  log "server $IAS_BINARY pid $SRV_PID on $ALL"
fi
URL=${ALL%%,*}
if [ -n "${BENCH_BIN:-}" ] && [ -x "$BENCH_BIN/mapping_load" ]; then ML=$BENCH_BIN/mapping_load
elif [ -x build/bench/mapping_load ]; then ML=$ROOT/build/bench/mapping_load
else
  ML=$W/mapping_load
  cc -std=gnu11 -O2 -D_GNU_SOURCE -o "$ML" bench/mapping_load.c bench/bench_http.c -lpthread
fi
G=/apis/image.openshift.io/v1/namespaces/$NS

# wrk: REPS runs; sets WRK_RESULT="<median req/s> <median p50 ms> <median p99 ms> <non-2xx>"
wrk_runs() { # label threads conns url
  local rps=() p50=() p99=() bad=0 out r
  for r in $(seq 1 "$REPS"); do
    out=$(timeout $((DUR + 30)) wrk -t"$2" -c"$3" -d"${DUR}s" --latency "$4" 2>&1 || true)
    rps+=("$(echo "$out" | awk '/^Requests\/sec/{print $2}')")
    p50+=("$(echo "$out" | awk '$1=="50%"{print $2}' | to_ms)")
    p99+=("$(echo "$out" | awk '$1=="99%"{print $2}' | to_ms)")
    bad=$((bad + $(echo "$out" | awk '/Non-2xx/{n+=$NF} END{print n+0}')))
    log "$1 run $r: ${rps[-1]} req/s, p50 ${p50[-1]} ms, p99 ${p99[-1]} ms"
  done
  WRK_RESULT="$(printf '%s\n' "${rps[@]}" | median) $(printf '%s\n' "${p50[@]}" | median) $(printf '%s\n' "${p99[@]}" | median) $bad"
}

# ---- (a) ImageStreamTag GET next to ImageStream GET: one stream, three tags pushed by mappings
"$ML" -u "$URL" -N "$NS" -c 1 -s 1 -t 3 -n 3 -p get-stream >/dev/null
IS_PATH=$G/imagestreams/get-stream0
ISTAG_PATH=$G/imagestreamtags/get-stream0:v0
wrk_runs "GET ImageStream" 2 64 "$URL$IS_PATH"; read -r is_rps _ is_p99 is_bad <<<"$WRK_RESULT"
row "GET one ImageStream (3 tags), wrk -t2 -c64, median of $REPS" "$is_rps req/s" "p99 $is_p99 ms, non-2xx $is_bad"
code=$(curl -s -o "$W/istag.json" -w '%{http_code}' "$URL$ISTAG_PATH")
if [ "$code" = 200 ]; then
  wrk_runs "GET ImageStreamTag" 2 64 "$URL$ISTAG_PATH"; read -r t_rps _ t_p99 t_bad <<<"$WRK_RESULT"
  ratio=$(awk -v a="$t_rps" -v b="$is_rps" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  row "GET ImageStreamTag of that stream, wrk -t2 -c64, median of $REPS" "$t_rps req/s" \
    "${ratio}x the ImageStream GET; p99 $t_p99 ms, non-2xx $t_bad"
else
  log "imagestreamtags answered $code: ImageStreamTag GET skipped ($(head -c 200 "$W/istag.json"))"
  row "GET ImageStreamTag" "skipped" "imagestreamtags answered HTTP $code on this server"
fi

# ---- (b) ImageStreamMapping creates at 32 connections: a new image and a tag event each
out=$(timeout $((DUR + 120)) "$ML" -u "$ALL" -N "$NS" -c 32 -d "$DUR" -p push-) || true
log "$out"
row "ImageStreamMapping create (new image + tag event), 32 conns, ${DUR} s, $(echo "$out" | kv streams) streams" \
  "$(echo "$out" | kv mappings_per_s) mappings/s" \
  "p50 $(echo "$out" | kv p50_ms) ms, p99 $(echo "$out" | kv p99_ms) ms, errors $(echo "$out" | kv errors)"

# ---- (c) ImageStreamImage prefix lookup on a stream with 10,000 history entries (100 tags x
# 100 events, one status write; the images are those the mappings above created, so the
# image cache holds as many objects as the history names)
target=$("$PY" - "$URL" "$NS" <<'EOF'
import hashlib, json, sys, requests
url, ns = sys.argv[1], sys.argv[2]
base = f"{url}/apis/image.openshift.io/v1"
names = [i["metadata"]["name"] for i in requests.get(f"{base}/images", timeout=300).json()["items"]]
names = [n for n in names if n.startswith("sha256:")][:10000]
target = names[len(names) // 2] if names else ""
while len(names) < 10000:   # fewer images than events: the rest name images that do not exist
    names.append("sha256:" + hashlib.sha256(str(len(names)).encode()).hexdigest())
if not target:
    target = names[5050]
s = requests.post(f"{base}/namespaces/{ns}/imagestreams", json={"metadata": {"name": "history"}, "spec": {}},
                  timeout=60)
st = requests.get(f"{base}/namespaces/{ns}/imagestreams/history/status", timeout=60).json()
st["status"]["tags"] = [{"tag": f"t{t:03d}", "items": [
    {"created": "2024-01-01T00:00:00Z", "dockerImageReference": f"bench.registry:5000/{ns}/history@{n}",
     "image": n, "generation": 1} for n in names[t * 100:(t + 1) * 100]]} for t in range(100)]
r = requests.put(f"{base}/namespaces/{ns}/imagestreams/history/status", data=json.dumps(st),
                 headers={"Content-Type": "application/json"}, timeout=300)
if r.status_code != 200:
    sys.exit(f"status write: {r.status_code} {r.text[:300]}")
print(target)
EOF
)
log "isimage target $target"
for form in prefix full; do
  if [ "$form" = prefix ]; then id=${target:7:12}; else id=$target; fi
  path=$G/imagestreamimages/history@$id
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL$path")
  [ "$code" = 200 ] || log "isimage $form lookup answered $code (is the image there?)"
  wrk_runs "GET isimage ($form)" 1 1 "$URL$path"; read -r rps p50 p99 bad <<<"$WRK_RESULT"
  row "GET ImageStreamImage by $form ($([ $form = prefix ] && echo "12 hex chars" || echo "digest")), stream of 10,000 events, wrk -t1 -c1" \
    "p50 $p50 ms" "p99 $p99 ms, $rps req/s, non-2xx $bad (HTTP $code)"
done
