#!/usr/bin/python3
"""Import benchmarks (issue 9 item 7). Prints Markdown table rows
(| Benchmark | Result | Detail |) on stdout, progress on stderr; never pass/fail.
What each number means: docs/performance.md ("Imports").

  bench/import_bench.py

1. A 50-tag repository import (ImageStreamImport spec.repository, import: true into a
   fresh stream, a fresh server each run so that no cache helps) next to `skopeo inspect`
   of the same 50 tags one after another and to the sum of raw curl fetches (per tag: the
   manifest GET and the config blob GET, each timed by curl's time_total): the lower bound
   of any client that must read those bytes.
2. Re-checking 1,000 scheduled, unchanged tags (100 streams x 10 tags, one registry
   behind the counting proxy): registry requests by method and the wall time of one round.
3. An ImageStreamImport of one tag (import: false): the server's time beyond the
   registry's own (its median minus the median curl sum of that tag's fetches).

Env: IAS_BINARY (default build/image-apiserver), BENCH_REPS (runs per measurement, 5),
     BENCH_SCHED_STREAMS (100), BENCH_SCHED_TAGS (10), BENCH_KEEP=1 (keep the temp dir).
Needs docker-registry, skopeo, curl (scripts/install-deps.sh test).
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from registry_images import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, OciLayout  # noqa: E402
from registry_peers import FaultProxy, Registry  # noqa: E402

BIN = os.environ.get("IAS_BINARY", os.path.join(ROOT, "build", "image-apiserver"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
SCHED_STREAMS = int(os.environ.get("BENCH_SCHED_STREAMS", "100"))
SCHED_TAGS = int(os.environ.get("BENCH_SCHED_TAGS", "10"))
ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])
G = "/apis/image.openshift.io/v1/namespaces"


def log(*a):
    print("import bench:", *a, file=sys.stderr, flush=True)


def row(name, result, detail):
    print(f"| {name} | {result} | {detail} |", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, work, args=()):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(dir=work, prefix="server-")
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                                      os.path.join(self.dir, "data"), *args],
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/readyz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not become ready")

    def req(self, method, path, body=None, timeout=120):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, data=data, method=method,
                                   headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(r, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def isi(name, repository=None, images=(), do_import=True):
    spec = {"import": do_import}
    if repository:
        spec["repository"] = {"from": {"kind": "DockerImage", "name": repository},
                              "importPolicy": {"insecure": True}}
    if images:
        spec["images"] = [{"from": {"kind": "DockerImage", "name": n}, "importPolicy": {"insecure": True},
                           **({"to": {"name": t}} if t else {})} for n, t in images]
    return {"kind": "ImageStreamImport", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": name}, "spec": spec}


def curl_time(url, accept=None):
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", url]
    if accept:
        cmd += ["-H", f"Accept: {accept}"]
    code, t = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    if code != "200":
        raise RuntimeError(f"curl {url}: {code}")
    return float(t)


def curl_tag_sum(reg, repo, tag):
    """Seconds of the raw fetches one tag needs: manifest GET + config blob GET."""
    t = curl_time(f"{reg.url}/v2/{repo}/manifests/{tag}", ACCEPT)
    _, _, body = reg.request("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
    cfg = json.loads(body)["config"]["digest"]
    return t + curl_time(f"{reg.url}/v2/{repo}/blobs/{cfg}")


def median(v):
    return statistics.median(v) if v else float("nan")


def bench_fifty(work, reg, repo, tags):
    curl = []
    for _ in range(REPS):
        curl.append(sum(curl_tag_sum(reg, repo, t) for t in tags))
    skopeo = []
    for _ in range(max(1, REPS // 2)):
        t0 = time.monotonic()
        for t in tags:
            subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reg.host}/{repo}:{t}"],
                           check=True, capture_output=True)
        skopeo.append(time.monotonic() - t0)
    server = []
    for i in range(REPS):
        s = Server(work)
        try:
            t0 = time.monotonic()
            code, out = s.req("POST", f"{G}/bench/imagestreamimports", isi(f"fifty-{i}", f"{reg.host}/{repo}"))
            server.append(time.monotonic() - t0)
            n = len(((out or {}).get("status") or {}).get("repository", {}).get("images") or [])
            ok = sum(1 for x in out["status"]["repository"]["images"] if x["status"]["status"] == "Success") \
                if code == 201 else 0
            if code != 201 or ok != len(tags):
                raise RuntimeError(f"import: {code}, {ok}/{n} images: {json.dumps(out)[:400]}")
        finally:
            s.stop()
    c, k, v = median(curl), median(skopeo), median(server)
    row("50-tag repository import (import: true, fresh server)", f"{v * 1000:.0f} ms",
        f"{v / c:.2f}x the curl lower bound ({c * 1000:.0f} ms), {k / v:.1f}x faster than skopeo inspect x50 "
        f"({k * 1000:.0f} ms); medians of {REPS}")


def bench_one(work, reg, repo, tag):
    curl = [curl_tag_sum(reg, repo, tag) for _ in range(REPS * 4)]
    s = Server(work)
    try:
        runs = []
        for i in range(REPS * 4):
            t0 = time.monotonic()
            code, out = s.req("POST", f"{G}/bench/imagestreamimports",
                              isi(f"one-{i}", images=[(f"{reg.host}/{repo}:{tag}", None)], do_import=False))
            runs.append(time.monotonic() - t0)
            if code != 201 or out["status"]["images"][0]["status"]["status"] != "Success":
                raise RuntimeError(f"import: {code} {json.dumps(out)[:400]}")
    finally:
        s.stop()
    c, v = median(curl), median(runs)
    row("ImageStreamImport of one tag (import: false)", f"{v * 1000:.2f} ms",
        f"server time beyond the registry's: {(v - c) * 1000:.2f} ms (curl sum of its fetches "
        f"{c * 1000:.2f} ms); medians of {REPS * 4}")


def bench_scheduled(work, reg, repo, layout):
    proxy = FaultProxy(reg).start()
    total = SCHED_STREAMS * SCHED_TAGS
    interval = 20
    s = Server(work, ["--scheduled-image-import-interval", f"{interval}s",
                      "--max-scheduled-image-imports-per-minute", "100000"])
    try:
        for i in range(SCHED_STREAMS):
            tags = [{"name": f"t{j}", "from": {"kind": "DockerImage", "name": f"127.0.0.1:{proxy.port}/{repo}:s-{i}-{j}"},
                     "importPolicy": {"scheduled": True, "insecure": True}} for j in range(SCHED_TAGS)]
            code, out = s.req("POST", f"{G}/sched/imagestreams",
                              {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                               "metadata": {"name": f"s{i}"}, "spec": {"tags": tags}})
            if code != 201:
                raise RuntimeError(f"stream: {code} {out}")

        def imported():
            code, out = s.req("GET", f"{G}/sched/imagestreams")
            return sum(1 for it in out["items"] for t in (it.get("status") or {}).get("tags") or []
                       if t.get("items"))
        deadline = time.monotonic() + 300
        while imported() < total and time.monotonic() < deadline:
            time.sleep(0.5)
        if imported() < total:
            raise RuntimeError(f"only {imported()}/{total} tags imported")
        log(f"{total} tags imported; waiting for one scheduled round")
        proxy.reset_counts()
        t0 = time.monotonic()
        deadline = t0 + interval * 4 + 60
        def distinct_heads():  # tags checked at least once since the reset
            with proxy.lock:
                return sum(1 for (m, p) in proxy.counts if m == "HEAD" and "/manifests/" in p)
        while distinct_heads() < total and time.monotonic() < deadline:
            time.sleep(0.2)
        wall = time.monotonic() - t0
        heads = proxy.count(method="HEAD", pattern="/manifests/")
        gets = proxy.count(method="GET", pattern="/manifests/")
        other = proxy.count(method="GET") - gets
        row(f"re-check of {total} scheduled unchanged tags", f"{heads} HEAD, {gets} manifest GET",
            f"every tag checked within {wall:.1f} s of the counters' reset (interval {interval}s: a round "
            f"is {interval * 1.25:.0f} s); {other} other GETs (/v2/ pings, tokens)")
    finally:
        s.stop()
        proxy.stop()


def bench_shared_tag(work, reg, repo, streams=200):
    """Many streams tracking one upstream tag: one round's registry requests."""
    proxy = FaultProxy(reg).start()
    interval = 8
    s = Server(work, ["--scheduled-image-import-interval", f"{interval}s",
                      "--max-scheduled-image-imports-per-minute", "100000"])
    try:
        for i in range(streams):
            tags = [{"name": "t", "from": {"kind": "DockerImage", "name": f"127.0.0.1:{proxy.port}/{repo}:sched"},
                     "importPolicy": {"scheduled": True, "insecure": True}}]
            code, out = s.req("POST", f"{G}/shared/imagestreams",
                              {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                               "metadata": {"name": f"s{i}"}, "spec": {"tags": tags}})
            if code != 201:
                raise RuntimeError(f"stream: {code} {out}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            code, out = s.req("GET", f"{G}/shared/imagestreams")
            done = sum(1 for it in out["items"] if ((it.get("status") or {}).get("tags") or [{}])[0].get("items"))
            if done == streams:
                break
            time.sleep(0.5)
        time.sleep(interval)  # let the first imports' window pass into steady state
        proxy.reset_counts()
        rounds = 3
        time.sleep(interval * 1.25 * rounds)
        heads = proxy.count(method="HEAD", pattern="/manifests/")
        gets = proxy.count(method="GET", pattern="/manifests/")
        row(f"{streams} streams tracking one scheduled tag, {rounds} rounds", f"{heads} HEAD, {gets} manifest GET",
            f"about one lookup per interval ({interval}s) instead of {streams} per round: a tag that resolved to "
            "the digest the stream has within the interval costs no request")
    finally:
        s.stop()
        proxy.stop()


def main():
    for tool in ("curl", "skopeo"):
        if not shutil.which(tool):
            log(f"{tool} missing (scripts/install-deps.sh test)")
            return 1
    if not os.access(BIN, os.X_OK):
        log(f"no server binary at {BIN} (make build, or set IAS_BINARY)")
        return 1
    work = tempfile.mkdtemp(prefix="ias-import-bench.")
    reg = None
    try:
        reg = Registry(os.path.join(work, "registry")).start()
        layout = OciLayout(os.path.join(work, "layout"))
        tags = [f"v{n:02d}" for n in range(50)]
        for n, t in enumerate(tags):
            layout.add_image(t, seed=f"bench-{n}", layers=2)
        layout.add_image("sched", seed="bench-sched")
        layout.write()
        log("pushing 50 images")
        for t in tags:
            reg.push_http(layout, t, "bench/fifty")
        if "--scheduled-image-import-interval" not in subprocess.run([BIN, "--help"], capture_output=True,
                                                                      text=True).stdout:
            SCHED_ONLY = False
        else:
            SCHED_ONLY = True
        log(f"tagging one image {SCHED_STREAMS * SCHED_TAGS if SCHED_ONLY else 0} times")
        reg.push_http(layout, "sched", "bench/sched")
        _, h, body = reg.request("GET", "/v2/bench/sched/manifests/sched", headers={"Accept": ACCEPT})
        for i in range(SCHED_STREAMS if SCHED_ONLY else 0):
            for j in range(SCHED_TAGS):
                st, _, b = reg.request("PUT", f"/v2/bench/sched/manifests/s-{i}-{j}", body=body,
                                       headers={"Content-Type": h["content-type"]})
                if st != 201:
                    raise RuntimeError(f"tag PUT: {st} {b[:200]!r}")
        print("| Benchmark | Result | Detail |\n|---|---|---|", flush=True)
        bench_fifty(work, reg, "bench/fifty", tags)
        bench_one(work, reg, "bench/fifty", tags[0])
        helptext = subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout
        if "--scheduled-image-import-interval" in helptext:
            bench_scheduled(work, reg, "bench/sched", layout)
            bench_shared_tag(work, reg, "bench/sched")
        else:
            row("re-check of scheduled unchanged tags", "n/a", "this build has no import controller "
                "(--scheduled-image-import-interval)")
    finally:
        if reg:
            reg.stop()
        if os.environ.get("BENCH_KEEP") == "1":
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
