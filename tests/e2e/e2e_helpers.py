"""Shared helpers for the end-to-end suite: the server and etcd process
wrappers, a raw HTTP client, kubectl invocation, watch-stream reader and object builders.

Fixtures live in conftest.py; everything here is plain Python so test modules
can import it (`from e2e_helpers import ...`)."""

import atexit
import base64
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("IAS_BINARY") or str(REPO / "build" / "image-apiserver")
KUBECTL = os.environ.get("IAS_KUBECTL", "/usr/bin/kubectl")
LOG_LEVEL = os.environ.get("IAS_LOG_LEVEL", "info")

G = "image.openshift.io"
GV = "image.openshift.io/v1"
BASE = "/apis/image.openshift.io/v1"
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
AGG_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
              "application/json")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


# ---------------------------------------------------------------- paths / objects

def is_path(ns, name=None, sub=None):
    p = f"{BASE}/namespaces/{ns}/imagestreams"
    if name is not None:
        p += f"/{name}"
    if sub:
        p += f"/{sub}"
    return p


def img_path(name=None):
    return f"{BASE}/images" + (f"/{name}" if name is not None else "")


def make_is(name, ns=None, tags=None, labels=None, **spec):
    """An ImageStream body. tags: list of TagReference dicts or {name: from-name}."""
    meta = {"name": name}
    if ns:
        meta["namespace"] = ns
    if labels:
        meta["labels"] = dict(labels)
    sp = dict(spec)
    if isinstance(tags, dict):
        tags = [{"name": t, "from": {"kind": "DockerImage", "name": ref}}
                for t, ref in tags.items()]
    if tags is not None:
        sp["tags"] = tags
    return {"apiVersion": GV, "kind": "ImageStream", "metadata": meta, "spec": sp}


def make_image(name, ref="openshift/ruby-19-centos", **fields):
    body = {"apiVersion": GV, "kind": "Image", "metadata": {"name": name}}
    if ref is not None:
        body["dockerImageReference"] = ref
    body.update(fields)
    return body


def names(list_body):
    return sorted(i["metadata"]["name"] for i in list_body["items"])


# stored-resources.md §5 fixtures (exact bytes).
A64 = "a" * 64
B64 = "b" * 64
CONFIG = ('{"architecture":"amd64","os":"linux","created":"2020-01-02T03:04:05.123456789Z",'
          '"author":"me","docker_version":"19.03","config":{"Env":["A=1"],"Cmd":["sh"],'
          '"Labels":{"k":"v"},"StopSignal":"SIGTERM"},"container_config":{"Cmd":["/bin/sh",'
          '"-c","echo hi"]},"rootfs":{"type":"layers","diff_ids":[]}}')
CONFIG_DIGEST = "sha256:912e08be26e4b953e91138ebd2c11bd2845b3c86af0208c8004ddf3225f9201b"
S2 = ('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
      '"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":294,'
      '"digest":"' + CONFIG_DIGEST + '"},"layers":[{"mediaType":'
      '"application/vnd.docker.image.rootfs.diff.tar.gzip","size":100,"digest":"sha256:' + A64
      + '"},{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":250,'
      '"digest":"sha256:' + B64 + '"},{"mediaType":'
      '"application/vnd.docker.image.rootfs.diff.tar.gzip","size":100,"digest":"sha256:' + A64
      + '"}]}')
S2_DIGEST = "sha256:2d31f8b32bd1350b6672dc1277018d3c8b108005206a927c7fe40d47389ef6fb"
S2_MT = "application/vnd.docker.distribution.manifest.v2+json"
LAYER_MT = "application/vnd.docker.image.rootfs.diff.tar.gzip"


# ---------------------------------------------------------------- Status checks

def assert_status(resp, code, reason, message=None, contains=None):
    """resp must be a Kubernetes Status error with this code and reason."""
    assert resp.status_code == code, (resp.status_code, resp.text[:2000])
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), ctype
    body = resp.json()
    assert body.get("kind") == "Status", body
    assert body.get("apiVersion") == "v1", body
    assert body.get("status") == "Failure", body
    assert body.get("code") == code, body
    assert body.get("reason") == reason, body
    if message is not None:
        assert body.get("message") == message, body
    for part in ([contains] if isinstance(contains, str) else (contains or [])):
        assert part in body.get("message", ""), (part, body)
    return body


def assert_ok(resp, code=None):
    ok = (code,) if code else (200, 201, 202)
    assert resp.status_code in ok, (resp.status_code, resp.text[:2000])
    return resp.json()


# ---------------------------------------------------------------- HTTP

class Http:
    """Thin requests wrapper bound to a server (its port may change on restart)."""

    def __init__(self, server):
        self.server = server
        self.s = requests.Session()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server.port}"

    def req(self, method, path, json=None, data=None, headers=None, params=None,
            timeout=20, **kw):
        return self.s.request(method, self.base + path, json=json, data=data,
                              headers=headers, params=params, timeout=timeout, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, json=body, **kw)

    def put(self, path, body=None, **kw):
        return self.req("PUT", path, json=body, **kw)

    def delete(self, path, body=None, **kw):
        return self.req("DELETE", path, json=body, **kw)

    def patch(self, path, body, ctype=MERGE, headers=None, **kw):
        h = {"Content-Type": ctype}
        h.update(headers or {})
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.req("PATCH", path, data=data, headers=h, **kw)

    # conveniences that assert success
    def create_is(self, ns, name, **kw):
        return assert_ok(self.post(is_path(ns), make_is(name, **kw)), 201)

    def get_is(self, ns, name):
        return assert_ok(self.get(is_path(ns, name)), 200)

    def raw(self, method, path, body=b"", headers=None, chunked=False, timeout=20):
        """http.client request (exact headers, optional chunked body).
        Returns (status, headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                step = 64 * 1024
                try:
                    for i in range(0, len(body), step):
                        piece = body[i:i + step]
                        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                    conn.send(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server may answer (413) before reading it all
            else:
                if body or method in ("POST", "PUT", "PATCH"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders()
                if body:
                    try:
                        conn.send(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the server may answer (413) before reading it all
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()


# ---------------------------------------------------------------- watch stream

class Watch:
    """Reads a chunked watch stream line by line on a background thread.
    The constructor only sends the request; `status`/`headers` wait for the
    response head (a server may legitimately be slow to flush it)."""

    def __init__(self, server, path, headers=None, timeout=30, head_timeout=10):
        self.q = queue.Queue()
        self.head_timeout = head_timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        self.conn.request("GET", path, headers=headers or {"Accept": "application/json"})
        self.resp = None
        self.head = threading.Event()
        self.closed = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            self.resp = self.conn.getresponse()
            self.head.set()
            while True:
                line = self.resp.readline()
                if not line:
                    break
                if line.strip():
                    self.q.put(json.loads(line))
        except Exception as e:  # socket closed by close() or a bad line
            self.q.put(e)
        finally:
            self.head.set()
            self.closed.set()
            self.q.put(None)

    def wait_head(self, timeout=None):
        if not self.head.wait(self.head_timeout if timeout is None else timeout):
            raise AssertionError("watch response head not received")
        if self.resp is None:
            raise AssertionError("watch request failed before the response head")
        return self.resp

    @property
    def status(self):
        return self.wait_head().status

    @property
    def headers(self):
        return dict(self.wait_head().getheaders())

    def next(self, timeout=10):
        """Next event dict; None at end of stream; raises on timeout."""
        try:
            ev = self.q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no watch event within {timeout}s") from None
        if isinstance(ev, Exception):
            raise AssertionError(f"watch stream failed: {ev!r}")
        if ev is None:
            self.q.put(None)  # keep reporting end of stream
        return ev

    def take(self, n, timeout=10):
        out = []
        for _ in range(n):
            ev = self.next(timeout)
            assert ev is not None, f"stream ended after {out}"
            out.append(ev)
        return out

    def until(self, pred, timeout=10):
        """Events up to and including the first one matching pred."""
        deadline = time.time() + timeout
        seen = []
        while True:
            ev = self.next(max(0.1, deadline - time.time()))
            assert ev is not None, f"stream ended before match; saw {seen}"
            seen.append(ev)
            if pred(ev):
                return seen

    def quiet(self, secs):
        """Assert no event arrives within secs."""
        try:
            ev = self.q.get(timeout=secs)
        except queue.Empty:
            return
        if ev is None:  # end of stream: nothing was sent
            self.q.put(None)
            return
        raise AssertionError(f"unexpected watch event: {ev}")

    def wait_closed(self, timeout):
        return self.closed.wait(timeout)

    def close(self):
        try:
            self.conn.sock and self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def ev_summary(events):
    return [(e["type"], e["object"].get("metadata", {}).get("name")) for e in events]


# ---------------------------------------------------------------- server process

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(Exception):
    pass


_binary_copy = {}


def server_binary():
    """A private copy of BINARY, taken once per test session, so a rebuild
    during the run (make build) cannot break restarts half-way."""
    if "path" not in _binary_copy:
        if not os.path.exists(BINARY):
            raise ServerError(f"server binary {BINARY} not found (set IAS_BINARY)")
        import tempfile
        d = tempfile.mkdtemp(prefix="ias-e2e-bin-")
        dst = os.path.join(d, "image-apiserver")
        shutil.copy2(BINARY, dst)
        _binary_copy["path"] = dst
    return _binary_copy["path"]


def stop_and_check(procs, label=None):
    """Stop every Server/Etcd (SIGTERM, wait) and fail the calling test with all
    their problems (crash, sanitizer report, unclean exit), if any."""
    problems = []
    for p in procs:
        p.stop()
        problems += [f"{label(p)}: {x}" if label else x for x in p.problems()]
    if problems:
        import pytest
        pytest.fail("\n".join(problems), pytrace=False)


def remove_binary_copy():
    path = _binary_copy.pop("path", None)
    if path:
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


class _Managed:
    """What Server and Etcd share: a process started by start(), stopped by stop(),
    with its runs recorded in self.runs and signalled through self._signal()."""

    def kill9(self):
        if self.runs and self.runs[-1]["rc"] is None:
            self._signal(self.runs[-1], signal.SIGKILL, "kill")

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Server(_Managed):
    """One image-apiserver on a free port with its own data dir, HOME and
    kubeconfig. start() may be called again after stop()/kill9() (restart on
    the same data dir). With etcd (an Etcd) it stores in that etcd under a
    key prefix owned by its data dir (etcd_prefix_for), else in the embedded
    SQLite store in the data dir; `backend` says which."""

    def __init__(self, workdir, extra_args=(), data_dir=None, etcd=None, env=None, ca_file=None):
        self.dir = Path(workdir)
        self.ca_file = ca_file  # set: the server serves TLS with a certificate from this CA
        self.scheme = "https" if ca_file else "http"
        self.env = env  # extra environment variables of the process (e.g. HTTPS_PROXY)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = Path(data_dir) if data_dir else self.dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.etcd = etcd
        self.backend = "etcd" if etcd is not None else "embedded"
        self.etcd_prefix = etcd_prefix_for(self.data_dir) if etcd is not None else None
        self.home = self.dir / "home"
        self.home.mkdir(exist_ok=True)
        self.kubeconfig = self.dir / "kubeconfig"
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.runs = []  # dicts: proc, log, how ("term"|"kill"|None), rc
        self.http = Http(self)

    # -- lifecycle
    def start(self, ready_timeout=30):
        binary = server_binary()
        last = ""
        for attempt in range(4):
            port = free_port()
            log = self.dir / f"stderr-{len(self.runs)}.log"
            args = [binary, "--listen", f"127.0.0.1:{port}", "--data-dir", str(self.data_dir),
                    "--log-level", LOG_LEVEL, *self.backend_args(), *self.extra_args]
            with open(log, "wb") as f:
                proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        env={**os.environ, **self.env} if self.env else None)
            run = {"proc": proc, "log": log, "how": None, "rc": None, "args": args}
            self.runs.append(run)
            self.proc, self.port = proc, port
            deadline = time.time() + ready_timeout
            while time.time() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    r = requests.get(f"{self.scheme}://127.0.0.1:{port}/readyz", timeout=1,
                                     verify=str(self.ca_file) if self.ca_file else True)
                    if r.status_code == 200:
                        self._write_kubeconfig()
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.05)
            if proc.poll() is None:
                self._signal(run, signal.SIGKILL, "kill")
                raise ServerError(f"server not ready within {ready_timeout}s:\n{self.log_tail(run)}")
            run["rc"] = proc.returncode
            run["how"] = "failed-start"
            last = self.log_tail(run)
            if "in use" not in last.lower():  # only retry a port race
                break
        raise ServerError(f"server exited during start (rc {self.proc.returncode}):\n{last}")

    def backend_args(self):
        if self.etcd is None:
            return []
        return ["--etcd-servers", self.etcd.url, "--etcd-prefix", self.etcd_prefix]

    def _signal(self, run, sig, how):
        proc = run["proc"]
        if proc.poll() is None:
            run["how"] = how
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            run["rc"] = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            run["rc"] = proc.wait(timeout=10)
            run["how"] = "hung"

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if self.runs and self.runs[-1]["rc"] is None:
            self._signal(self.runs[-1], signal.SIGTERM, "term")
        return self.runs[-1]["rc"] if self.runs else None

    # -- diagnostics
    def log_text(self, run):
        try:
            return Path(run["log"]).read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, run=None, n=60):
        run = run or self.runs[-1]
        return "\n".join(self.log_text(run).splitlines()[-n:])

    def problems(self):
        """Reasons to fail: non-zero exit after SIGTERM, died on its own,
        sanitizer reports in any run's output."""
        out = []
        for i, run in enumerate(self.runs):
            text = self.log_text(run)
            for m in SANITIZER_MARKERS:
                if m in text:
                    idx = text.index(m)
                    out.append(f"run {i}: sanitizer report:\n{text[max(0, idx - 200):idx + 3000]}")
                    break
            if run["how"] == "term" and run["rc"] != 0:
                out.append(f"run {i}: exit code {run['rc']} after SIGTERM\n{self.log_tail(run)}")
            elif run["how"] == "hung":
                out.append(f"run {i}: did not exit within 20s of SIGTERM\n{self.log_tail(run)}")
            elif run["how"] is None and run["rc"] is not None:
                out.append(f"run {i}: died unexpectedly, rc {run['rc']}\n{self.log_tail(run)}")
        return out

    def check_alive(self):
        """Return a problem string if the current process died on its own."""
        if self.runs and self.runs[-1]["how"] is None and self.proc.poll() is not None:
            run = self.runs[-1]
            run["rc"] = self.proc.returncode
            text = self.log_text(run)
            for m in SANITIZER_MARKERS:
                if m in text:
                    idx = text.index(m)
                    return (f"server died (rc {run['rc']}) with a sanitizer report "
                            f"({run['log']}):\n{text[max(0, idx - 200):idx + 2500]}")
            return f"server died (rc {run['rc']}) ({run['log']}):\n{self.log_tail()}"
        return None

    # -- clients
    def _write_kubeconfig(self):
        self.kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            "clusters:\n- name: e2e\n  cluster:\n"
            f"    server: {self.scheme}://127.0.0.1:{self.port}\n"
            + (f"    certificate-authority: {self.ca_file}\n" if self.ca_file else "") +
            "contexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: e2e\n"
            "current-context: e2e\n"
            "users:\n- name: e2e\n  user: "
            # over https kubectl asks for a password when the user has no credential at all
            + ("{token: e2e}\n" if self.ca_file else "{}\n"))

    def kube_env(self, extra=None):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
               "KUBECONFIG": str(self.kubeconfig), "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def kubectl(self, *args, input=None, check=True, timeout=60, env=None):
        """Run kubectl against this server; returns (rc, stdout, stderr)."""
        if not KUBECTL or not os.path.exists(KUBECTL):
            import pytest
            pytest.skip("kubectl not available (IAS_KUBECTL)")
        r = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True,
                           timeout=timeout, env=self.kube_env(env))
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} -> rc {r.returncode}\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r.returncode, r.stdout, r.stderr

    def kubectl_bg(self, *args, env=None):
        """Start kubectl in the background (stdout/stderr pipes, text mode)."""
        if not KUBECTL or not os.path.exists(KUBECTL):
            import pytest
            pytest.skip("kubectl not available (IAS_KUBECTL)")
        return subprocess.Popen([KUBECTL, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.kube_env(env),
                                start_new_session=True)

    def help_text(self):
        r = subprocess.run([server_binary(), "--help"], capture_output=True, text=True, timeout=10)
        return r.stdout + r.stderr


def wait_for(pred, timeout=10, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v is not None and v is not False:  # (a 4xx requests.Response is falsy)
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def dns_label_ok(s):
    return re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", s) is not None


def new_ns():
    return f"e2e-{uuid.uuid4().hex[:10]}"


def uniq(prefix="x"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- etcd process

ETCD_BIN = os.environ.get("IAS_TEST_ETCD") or "/usr/bin/etcd"
# etcd 3.4 refuses to start on other architectures unless ETCD_UNSUPPORTED_ARCH names it
ETCD_SUPPORTED_ARCHES = ("amd64", "ppc64le")
_GOARCH_OF_UNAME = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm",
                    "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x",
                    "riscv64": "riscv64"}


class EtcdError(Exception):
    pass


def etcd_version(binary=None):
    """(version, goarch) from `etcd --version`, e.g. ("3.4.23", "amd64")."""
    goarch = _GOARCH_OF_UNAME.get(os.uname().machine)
    for _ in range(2):
        r = subprocess.run([binary or ETCD_BIN, "--version"], capture_output=True, text=True,
                           timeout=20, env=_etcd_env(goarch))
        out = r.stdout + r.stderr
        # e.g. a 32-bit etcd on a 64-bit kernel names the arch it wants
        want = re.search(r"ETCD_UNSUPPORTED_ARCH=(\w+)", out)
        if r.returncode == 0 or not want or want.group(1) == goarch:
            break
        goarch = want.group(1)
    ver = re.search(r"etcd Version:\s*(\S+)", out)
    arch = re.search(r"Go OS/Arch:\s*\S+/(\S+)", out)
    if r.returncode != 0 or not ver:
        raise EtcdError(f"{binary or ETCD_BIN} --version failed (rc {r.returncode}): {out[:500]}")
    return ver.group(1), (arch.group(1) if arch else goarch)


def _etcd_env(goarch):
    # ETCD_* variables from the caller's environment would override our flags
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}
    if goarch and goarch not in ETCD_SUPPORTED_ARCHES:
        env["ETCD_UNSUPPORTED_ARCH"] = goarch
    return env


def _b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class Etcd(_Managed):
    """A private single-member etcd on two free loopback ports (client, peer)
    with its own data dir. Ports and data dir are fixed at the first start,
    so start() after stop()/kill9() brings back the same member with its data.
    The log (all runs appended, each headed by a `=== run N` line) is
    dir/etcd.log; errors carry its tail."""

    CLEAN_EXIT = (0, -signal.SIGTERM)  # etcd re-raises SIGTERM after shutting down

    def __init__(self, workdir, binary=None, name="ias-e2e"):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.dir / "data"
        self.log = self.dir / "etcd.log"
        self.binary = binary or ETCD_BIN
        self.name = name
        self.client_port = None
        self.peer_port = None
        self.proc = None
        self.paused = False
        self.runs = []  # dicts: rc, how ("term"|"kill"|"hung"|"failed-start"|None)
        self.version, self.goarch = etcd_version(self.binary)
        self._http = requests.Session()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self):
        return f"http://127.0.0.1:{self.peer_port}"

    # -- lifecycle
    def start(self, ready_timeout=30):
        """Start (or restart) and wait until a range request answers 200."""
        if self.alive():
            raise EtcdError("etcd already running")
        fresh = self.client_port is None
        for attempt in range(4 if fresh else 1):
            if fresh:
                self.client_port = free_port()
                self.peer_port = free_port()
                while self.peer_port == self.client_port:
                    self.peer_port = free_port()
            err = self._spawn_and_wait(ready_timeout)
            if err is None:
                return self
            # a port taken between free_port() and etcd's bind: pick others (first start only)
            if not fresh or "address already in use" not in err:
                break
            shutil.rmtree(self.data_dir, ignore_errors=True)
        raise EtcdError(err)

    def _args(self):
        return [self.binary, "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", self.peer_url,
                "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", f"{self.name}={self.peer_url}",
                "--initial-cluster-state", "new"]

    def _spawn_and_wait(self, ready_timeout):
        args = self._args()
        with open(self.log, "ab") as f:
            f.write(f"=== run {len(self.runs)}: {' '.join(args)}\n".encode())
            f.flush()
            proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    env=_etcd_env(self.goarch))
        run = {"proc": proc, "rc": None, "how": None}
        self.runs.append(run)
        self.proc, self.paused = proc, False
        _live_etcds.add(self)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                run["rc"], run["how"] = proc.returncode, "failed-start"
                return (f"etcd exited during start (rc {proc.returncode}):\n"
                        f"{self.log_tail()}")
            if self.ready():
                return None
            time.sleep(0.05)
        self._signal(run, signal.SIGKILL, "kill")
        run["how"] = "failed-start"
        return f"etcd not ready within {ready_timeout}s ({self.url}):\n{self.log_tail()}"

    def ready(self, timeout=1.0):
        """True when a (linearizable) range request answers 200."""
        try:
            r = self._http.post(self.url + "/v3/kv/range", json={"key": "AA=="},
                                timeout=timeout)
            return r.status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout=20):
        wait_for(self.ready, timeout=timeout, interval=0.05, what=f"etcd {self.url} ready")

    def _signal(self, run, sig, how, wait=20):
        proc = run["proc"]
        if proc.poll() is None:
            run["how"] = how
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            run["rc"] = proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            run["rc"] = proc.wait(timeout=10)
            run["how"] = "hung"
        self.paused = False
        _live_etcds.discard(self)

    def stop(self):
        """SIGTERM and wait (SIGKILL after 20 s); returns the exit code. A
        paused etcd is continued first so it can shut down cleanly."""
        if not self.runs or self.runs[-1]["rc"] is not None:
            return self.runs[-1]["rc"] if self.runs else None
        run = self.runs[-1]
        if self.paused:
            self.resume()
        self._signal(run, signal.SIGTERM, "term")
        return run["rc"]

    def pause(self):
        """SIGSTOP: connections stay open, nothing answers (a hung etcd)."""
        if not self.alive():
            raise EtcdError("pause: etcd is not running")
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        if self.alive():
            self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def check_alive(self):
        """A problem string when the current process died on its own."""
        if self.runs and self.runs[-1]["how"] is None and self.proc.poll() is not None:
            run = self.runs[-1]
            run["rc"] = self.proc.returncode
            _live_etcds.discard(self)
            return f"etcd died (rc {run['rc']}) ({self.log}):\n{self.log_tail()}"
        return None

    def problems(self):
        """Reasons to fail: an unclean exit after SIGTERM, a hang, a death on its own."""
        out = []
        for i, run in enumerate(self.runs):
            if run["how"] == "term" and run["rc"] not in self.CLEAN_EXIT:
                out.append(f"etcd run {i}: exit code {run['rc']} after SIGTERM")
            elif run["how"] == "hung":
                out.append(f"etcd run {i}: did not exit within 20s of SIGTERM")
            elif run["how"] is None and run["rc"] is not None:
                out.append(f"etcd run {i}: died unexpectedly, rc {run['rc']}")
        if out:
            out.append(f"etcd log {self.log}:\n{self.log_tail()}")
        return out

    def log_tail(self, n=40):
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no etcd log)"
        return "\n".join(lines[-n:])

    # -- data access through the v3 JSON gateway (tests and diagnostics)
    def call(self, method, body, timeout=5):
        r = self._http.post(f"{self.url}/v3/{method}", json=body, timeout=timeout)
        if r.status_code != 200:
            raise EtcdError(f"etcd {method}: {r.status_code} {r.text[:500]}")
        return r.json()

    def put(self, key, value):
        """Returns the revision of the write."""
        return int(self.call("kv/put", {"key": _b64(key), "value": _b64(value)})
                   ["header"]["revision"])

    def get(self, key):
        """The value (bytes) or None."""
        kvs = self.call("kv/range", {"key": _b64(key)}).get("kvs") or []
        return base64.b64decode(kvs[0].get("value", "")) if kvs else None

    def keys(self, prefix):
        """Every key (str) under prefix, in order."""
        p = prefix.encode()
        end = p[:-1] + bytes([p[-1] + 1])  # prefixes here never end in 0xff
        body = {"key": _b64(p), "range_end": _b64(end), "keys_only": True}
        return [base64.b64decode(kv["key"]).decode(errors="replace")
                for kv in self.call("kv/range", body).get("kvs") or []]

    def revision(self):
        return int(self.call("kv/range", {"key": "AA=="})["header"]["revision"])


# Safety net: no etcd outlives the test process (a crash or ^C skipping teardown).
_live_etcds = set()


def _kill_live_etcds():
    for e in list(_live_etcds):
        if e.proc is not None and e.proc.poll() is None:
            try:
                e.proc.send_signal(signal.SIGCONT)
                e.proc.kill()
                e.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(_kill_live_etcds)


# Servers on etcd: one key prefix per data dir, so a restart (or a second
# Server on the same data_dir=) sees the same data, like the embedded store.
_etcd_prefixes = {}
_PREFIX_RUN = uuid.uuid4().hex[:6]  # two sessions sharing one etcd never collide


def etcd_prefix_for(data_dir):
    key = str(Path(data_dir).resolve())
    if key not in _etcd_prefixes:
        _etcd_prefixes[key] = f"/ias-test/{_PREFIX_RUN}-{len(_etcd_prefixes)}/"
    return _etcd_prefixes[key]
