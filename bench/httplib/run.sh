#!/bin/sh
# HTTP library bake-off on this machine: h2o (evloop) and libmicrohttpd candidates, each a
# minimal server answering a fixed 2048-byte JSON body, against nginx serving the same bytes.
# Prints req/s and p99 for wrk -t2 -c64 -d${DUR:-10s}, ${REPS:-3} runs each. Loopback only.
# Needs: scripts/install-deps.sh build test, plus libmicrohttpd-dev (only this script uses it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill $pids 2>/dev/null || true; rm -rf "$tmp"' EXIT
pids=
DUR=${DUR:-10s}
REPS=${REPS:-3}
cc -O2 -DH2O_USE_LIBUV=0 -o "$tmp/h2o_hello" "$here/h2o_hello.c" $(pkg-config --cflags --libs libh2o-evloop) -lssl -lcrypto -lz -lpthread
cc -O2 -o "$tmp/mhd_hello" "$here/mhd_hello.c" $(pkg-config --cflags --libs libmicrohttpd)
"$tmp/h2o_hello" 18181 2 & pids="$pids $!"
"$tmp/mhd_hello" 18182 2 & pids="$pids $!"
mkdir -p "$tmp/www"
printf '{"a":"%s"}' "$(head -c 2040 /dev/zero | tr '\0' x)" > "$tmp/www/obj"
cat > "$tmp/nginx.conf" <<NGX
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  default_type application/json;
  server { listen 127.0.0.1:18183; root $tmp/www; location / { } }
}
NGX
nginx -c "$tmp/nginx.conf" -p "$tmp" -g 'daemon off;' 2>/dev/null & pids="$pids $!"
sleep 1
for target in nginx:18183/obj h2o:18181/obj mhd:18182/obj; do
  name=${target%%:*}; url=http://127.0.0.1:${target#*:}
  for i in $(seq 1 "$REPS"); do
    out=$(wrk -t2 -c64 -d"$DUR" --latency "$url" 2>&1)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "$name run$i req/s=$rps p99=$p99"
  done
done
