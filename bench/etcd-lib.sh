# shellcheck shell=bash
# Sourced by bench/run-all.sh and bench/etcd-raw.sh: a private single-member
# etcd on free 127.0.0.1 ports with its data dir under a given directory.
# Needs the caller's free_port and curl; the caller's cleanup kills $ETCD_PID.
ETCD_BIN=${BENCH_ETCD:-/usr/bin/etcd}

# etcd_start DIR: sets ETCD_URL and ETCD_PID; data in DIR/etcd-data, log DIR/etcd.log
etcd_start() {
  local dir=$1 cport pport _
  [ -x "$ETCD_BIN" ] || { echo "bench: no etcd at $ETCD_BIN" >&2; return 1; }
  cport=$(free_port); pport=$(free_port)
  while [ "$pport" = "$cport" ]; do pport=$(free_port); done
  ETCD_URL=http://127.0.0.1:$cport
  # ETCD_* variables from the caller's environment would override these flags
  # shellcheck disable=SC2046  # one "-u NAME" pair per variable, names have no spaces
  env $(env | awk -F= '/^ETCD_/{print "-u " $1}') "$ETCD_BIN" --name bench \
    --data-dir "$dir/etcd-data" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "bench=http://127.0.0.1:$pport" --initial-cluster-state new \
    --logger zap --log-outputs stderr >"$dir/etcd.log" 2>&1 &
  ETCD_PID=$!
  # ready when a linearizable range answers (the leader is elected)
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null -X POST -d '{"key":"AA=="}' "$ETCD_URL/v3/kv/range" && return 0
    kill -0 "$ETCD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: etcd did not become ready; log:" >&2; tail -20 "$dir/etcd.log" >&2
  return 1
}

etcd_version() { "$ETCD_BIN" --version 2>/dev/null | awk '/etcd Version/{print $3}'; }

# proc_cpu_s PID: user+system CPU seconds the process has used so far
proc_cpu_s() {
  sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($12 + $13) / hz}'
}
