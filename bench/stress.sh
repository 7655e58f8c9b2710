#!/bin/bash
# Concurrency stress for the HTTP transport: parallel create_load writers, a
# watch_fanout, and raw clients that drop connections mid-request, all against
# one server on 127.0.0.1. Bounded in time; prints counts, never pass/fail.
# Look at the server log afterwards (sanitizer reports, crashes).
#
#   bench/stress.sh [SECONDS]          (default 30)
#
# Env: IAS_BINARY (default build/image-apiserver), STRESS_BIN (dir with
#      create_load and watch_fanout; default build/bench), STRESS_WRITERS (3),
#      STRESS_KEEP=1 (keep the temp dir with server.log and data).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${1:-30}
PY=/usr/bin/python3
BIN=${STRESS_BIN:-$ROOT/build/bench}
SRV=${IAS_BINARY:-$ROOT/build/image-apiserver}
WRITERS=${STRESS_WRITERS:-3}
W=$(mktemp -d /tmp/ias-stress.XXXXXX)
SRV_PID=
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
  if [ "${STRESS_KEEP:-}" = 1 ]; then echo "stress: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=65536; [ "$hard" -gt 65536 ] && hard=65536
ulimit -Sn "$hard"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$SRV" --listen "127.0.0.1:$PORT" --data-dir "$W/data" --log-level warn >"$W/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "$URL/version" && break; sleep 0.1; done

for i in $(seq 1 "$WRITERS"); do
  timeout "$((DUR + 60))" "$BIN/create_load" -u "$URL" -N "stress$i" -c 32 -d "$DUR" >"$W/create$i.out" 2>&1 &
  PIDS+=($!)
done
timeout "$((DUR + 60))" "$BIN/watch_fanout" -u "$URL" -N fanout -w 1000 -n $((DUR * 5)) -i 5 -T 20 \
  >"$W/fanout.out" 2>&1 &
PIDS+=($!)

# Raw clients: full POSTs and half-sent POSTs, closed without reading the answer,
# plus watches dropped right after their headers.
"$PY" - "$PORT" "$DUR" >"$W/droppers.out" 2>&1 <<'EOF' &
import socket, sys, time, random, threading
port, dur = int(sys.argv[1]), float(sys.argv[2])
G = "/apis/image.openshift.io/v1/namespaces/drop/imagestreams"
GW = "/apis/image.openshift.io/v1/namespaces/fanout/imagestreams"
end = time.time() + dur
counts = {"full": 0, "half": 0, "watch": 0, "err": 0}
lock = threading.Lock()
def body(i):
    pad = "x" * random.choice([0, 100, 9000, 70000])
    return ('{"apiVersion":"image.openshift.io/v1","kind":"ImageStream","metadata":{"name":"d%d-%d",'
            '"annotations":{"a":"%s"}}}' % (i, random.randrange(1 << 30), pad)).encode()
def worker(t):
    i = 0
    while time.time() < end:
        i += 1
        time.sleep(random.random() * 0.2)  # a dead client's POST still costs a store write
        kind = random.choice(["full"] * 4 + ["half"] * 2 + ["watch"])
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if kind == "watch":
                s.sendall(("GET %s?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n" % GW).encode())
                s.recv(100)
            else:
                b = body(t * 1000000 + i)
                req = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n\r\n" % (G, len(b))).encode() + b
                if kind == "half":
                    req = req[: random.randrange(1, len(req))]
                s.sendall(req)
                if random.random() < 0.3:
                    time.sleep(random.random() * 0.01)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
            with lock:
                counts[kind] += 1
        except OSError:
            with lock:
                counts["err"] += 1
ts = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print("droppers", " ".join("%s=%d" % kv for kv in counts.items()))
EOF
PIDS+=($!)

for p in "${PIDS[@]}"; do wait "$p"; done
PIDS=()
alive=no; kill -0 "$SRV_PID" 2>/dev/null && alive=yes
for i in $(seq 1 "$WRITERS"); do echo "create$i: $(tail -n 1 "$W/create$i.out")"; done
echo "fanout: $(tail -n 3 "$W/fanout.out" | tr '\n' ' ')"
cat "$W/droppers.out"
if [ "$alive" = yes ]; then kill -TERM "$SRV_PID"; fi
wait "$SRV_PID"; rc=$?
SRV_PID=
echo "server: alive_at_end=$alive exit=$rc sanitizer_reports=$(grep -c '^==[0-9]*==ERROR\|runtime error' "$W/server.log") log_lines=$(wc -l <"$W/server.log")"
grep -m 5 -A 30 '^==[0-9]*==ERROR' "$W/server.log" | head -80
