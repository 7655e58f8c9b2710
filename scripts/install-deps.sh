#!/bin/bash
# Installs the Debian packages image-apiserver needs. Idempotent: when every
# package of the requested sets is already installed it does nothing at all.
#
#   scripts/install-deps.sh [build] [test] [bench]     (default: build)
#
# build: compile and run the server (gpg: run time, reads image signatures). test: unit tests, end-to-end peers
# (registry, skopeo, etcd, kubernetes clients), benchmarks (wrk, nginx), fuzzers.
# bench: extras for bench/etcd-raw.sh's gRPC column (Go and etcd's Go client sources).
# Needs root to install; otherwise prints the apt-get command and fails.
set -euo pipefail

BUILD_PKGS=(gcc make meson ninja-build pkg-config libh2o-evloop-dev libjansson-dev
  libyaml-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev uuid-dev zlib1g-dev
  libgpgme-dev gpg ca-certificates curl)
TEST_PKGS=(libcmocka-dev python3 python3-pytest python3-requests python3-kubernetes
  python3-openshift python3-yaml docker-registry skopeo etcd-server etcd-client
  nginx-light wrk clang libclang-rt-14-dev procps openssl)
BENCH_PKGS=(golang-go golang-etcd-server-dev)
# Packages whose maintainer scripts may start a system service on a fixed port
# (nginx :80, registry :5000, etcd :2379); tests run their own instances instead.
declare -A SERVICE_OF=([nginx-light]=nginx [docker-registry]=docker-registry [etcd-server]=etcd)

sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=(build)
want=()
for s in "${sets[@]}"; do
  case "$s" in
    build) want+=("${BUILD_PKGS[@]}") ;;
    test) want+=("${TEST_PKGS[@]}") ;;
    bench) want+=("${BENCH_PKGS[@]}") ;;
    *) echo "install-deps: unknown package set '$s' (use: build, test, bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done

check_kubectl() {
  # kubectl has no Debian package; the machine provides it. Tests that need it
  # read IAS_KUBECTL (set by the Makefile) and skip when it is empty.
  if ! command -v kubectl >/dev/null 2>&1; then
    echo "install-deps: WARNING: kubectl not found in PATH; e2e tests that need it will be skipped" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  for s in "${sets[@]}"; do if [ "$s" = test ]; then check_kubectl; fi; done
  exit 0
fi

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root:  apt-get update && DEBIAN_FRONTEND=noninteractive ${cmd[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
# Keep maintainer scripts from starting services, unless a policy already exists.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update
DEBIAN_FRONTEND=noninteractive "${cmd[@]}"

# Whatever got started anyway: stop it and keep it from starting at boot.
for p in "${missing[@]}"; do
  svc=${SERVICE_OF[$p]:-}
  [ -n "$svc" ] || continue
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$svc" ]; then
    if command -v service >/dev/null 2>&1; then
      service "$svc" stop >/dev/null 2>&1 || true
    else
      "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "$svc" disable >/dev/null 2>&1 || true; fi
  fi
done
for s in "${sets[@]}"; do if [ "$s" = test ]; then check_kubectl; fi; done
echo "install-deps: done"
