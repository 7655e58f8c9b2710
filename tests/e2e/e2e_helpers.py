"""Shared helpers for the end-to-end suite: the server process wrapper, a raw
HTTP client, kubectl invocation, watch-stream reader and object builders.

Fixtures live in conftest.py; everything here is plain Python so test modules
can import it (`from e2e_helpers import ...`)."""

import http.client
import json
import os
import queue
import re
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
        import shutil
        import tempfile
        d = tempfile.mkdtemp(prefix="ias-e2e-bin-")
        dst = os.path.join(d, "image-apiserver")
        shutil.copy2(BINARY, dst)
        _binary_copy["path"] = dst
    return _binary_copy["path"]


def remove_binary_copy():
    path = _binary_copy.pop("path", None)
    if path:
        import shutil
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


class Server:
    """One image-apiserver on a free port with its own data dir, HOME and
    kubeconfig. start() may be called again after stop()/kill9() (restart on
    the same data dir)."""

    def __init__(self, workdir, extra_args=(), data_dir=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = Path(data_dir) if data_dir else self.dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
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
                    "--log-level", LOG_LEVEL, *self.extra_args]
            with open(log, "wb") as f:
                proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            run = {"proc": proc, "log": log, "how": None, "rc": None, "args": args}
            self.runs.append(run)
            self.proc, self.port = proc, port
            deadline = time.time() + ready_timeout
            while time.time() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    r = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
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

    def kill9(self):
        if self.runs and self.runs[-1]["rc"] is None:
            self._signal(self.runs[-1], signal.SIGKILL, "kill")

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

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
            f"    server: http://127.0.0.1:{self.port}\n"
            "contexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: e2e\n"
            "current-context: e2e\n"
            "users:\n- name: e2e\n  user: {}\n")

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
