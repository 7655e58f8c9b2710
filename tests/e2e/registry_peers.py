"""Registry-side peers for the importer tests: a real registry (Debian's
docker-registry, CNCF distribution 2.8), test certificates, basic and token
auth, a fault-injecting proxy and a notification receiver.

Everything listens on 127.0.0.1 on a free port, every wait has a timeout, and
every object has stop() (idempotent) that the fixtures call at teardown.
Plain Python plus the openssl, docker-registry and skopeo binaries."""

import base64
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid
import warnings

REGISTRY_BIN = os.environ.get("IAS_TEST_REGISTRY", "/usr/bin/docker-registry")
SKOPEO_BIN = os.environ.get("IAS_TEST_SKOPEO", "/usr/bin/skopeo")
OPENSSL_BIN = "/usr/bin/openssl"
START_TIMEOUT = 10.0
SKOPEO_TIMEOUT = 60.0


class PeerError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise PeerError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _run(cmd, timeout=30.0, **kw):
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    if p.returncode != 0:
        raise PeerError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    return p.stdout


# --------------------------------------------------------------------------- certificates

class CertAuthority:
    """A throwaway CA (openssl) that issues server and signing certificates."""

    def __init__(self, directory, name="ias-test-ca"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.cert = os.path.join(self.dir, "ca.crt")
        self.key = os.path.join(self.dir, "ca.key")
        _run([OPENSSL_BIN, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-days", "2", "-subj", f"/CN={name}", "-keyout", self.key, "-out", self.cert,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def issue_server(self, name="server", hosts=("127.0.0.1", "localhost")):
        """(cert, key) paths for a TLS server valid for hosts (IPs and DNS names)."""
        key = os.path.join(self.dir, f"{name}.key")
        csr = os.path.join(self.dir, f"{name}.csr")
        crt = os.path.join(self.dir, f"{name}.crt")
        ext = os.path.join(self.dir, f"{name}.ext")
        san = ",".join(("IP:" if re.fullmatch(r"[0-9.]+|[0-9a-f:]+", h) else "DNS:") + h
                       for h in hosts)
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        _run([OPENSSL_BIN, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-subj", f"/CN={hosts[0]}", "-keyout", key, "-out", csr])
        _run([OPENSSL_BIN, "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
              "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt])
        return crt, key

    def cert_dir(self):
        """A directory skopeo's --dest-cert-dir / --src-cert-dir accepts (ca.crt)."""
        d = os.path.join(self.dir, "skopeo-certs")
        os.makedirs(d, exist_ok=True)
        shutil.copy(self.cert, os.path.join(d, "ca.crt"))
        return d


_SIGNER = {}  # one RSA pair per process: generating one costs ~0.4 s


def signing_keypair(directory, name="token-signer"):
    """(cert, key) self-signed RSA pair: the token server signs with key, the
    registry trusts cert (rootcertbundle)."""
    cert = os.path.join(str(directory), f"{name}.crt")
    key = os.path.join(str(directory), f"{name}.key")
    if not _SIGNER:
        _run([OPENSSL_BIN, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
              "-subj", f"/CN={name}", "-keyout", key, "-out", cert])
        with open(cert, "rb") as c, open(key, "rb") as k:
            _SIGNER.update(cert=c.read(), key=k.read())
    else:
        for path, data in ((cert, _SIGNER["cert"]), (key, _SIGNER["key"])):
            with open(path, "wb") as f:
                f.write(data)
    os.chmod(key, 0o600)
    return cert, key


def bcrypt_hash(password):
    """bcrypt ($2b$, cost 5) via Python's crypt (libxcrypt; Debian 12's Python 3.11),
    else `htpasswd -B` (apache2-utils) where crypt is gone (Python 3.13)."""
    h = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))
    except ImportError:
        if shutil.which("htpasswd"):
            h = _run(["htpasswd", "-nbBC", "5", "u", password]).decode().strip().split(":", 1)[1]
    if not h or not h.startswith("$2"):
        raise PeerError("no bcrypt: Python's crypt lacks it and htpasswd (apache2-utils) is missing")
    return h


def write_htpasswd(path, users):
    """users: {name: password} -> an htpasswd file with bcrypt hashes (the only kind
    distribution accepts)."""
    with open(path, "w") as f:
        for u, p in users.items():
            f.write(f"{u}:{bcrypt_hash(p)}\n")
    return path


# --------------------------------------------------------------------------- small HTTP servers

class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _BaseHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, *a):
        pass

    def read_body(self, limit=64 << 20):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + n > limit:
                    raise PeerError("request body over limit")
                out += self.rfile.read(n)
                self.rfile.readline(16)
        n = int(self.headers.get("Content-Length") or 0)
        if n > limit:
            raise PeerError("request body over limit")
        return self.rfile.read(n) if n else b""

    def reply(self, code, body=b"", headers=None, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if ctype and not any(k.lower() == "content-type" for k in (headers or {})):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _ThreadedPeer:
    """An http.server on 127.0.0.1:free port in a daemon thread."""

    handler = None

    def __init__(self):
        self.port = None
        self._srv = None
        self._thread = None
        self.lock = threading.Lock()

    def start(self):
        owner = self

        class H(self.handler):
            peer = owner
        self._srv = _Server(("127.0.0.1", 0), H)
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=type(self).__name__)
        self._thread.start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self._srv:
            self._srv.shutdown()
            self._srv.server_close()
            self._thread.join(5)
            self._srv = None


# --------------------------------------------------------------------------- token server

def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer(_ThreadedPeer):
    """Docker registry token server (the `auth: token:` realm).

    GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] with optional
    basic auth. users=None grants anyone (anonymous included); otherwise only
    the listed users, and anonymous callers get 401. Grants every requested
    action. Tokens are RS256 JWTs with the signing cert in x5c, which the
    registry verifies against its rootcertbundle. Settable at run time:
    expires_in (None: field omitted, token valid 60 s as the spec's default), users, fail_with (HTTP status to answer instead of a token).
    `requests` records every request: dicts with account, scopes, service, time."""

    SERVICE = "ias-test-registry"
    ISSUER = "ias-test-token-issuer"

    def __init__(self, directory, users=None, expires_in=300):
        super().__init__()
        self.cert, self.key = signing_keypair(directory)
        with open(self.cert) as f:
            pem = f.read()
        der = ssl.PEM_cert_to_DER_cert(pem)
        self._x5c = base64.b64encode(der).decode()
        self.users = users
        self.expires_in = expires_in
        self.fail_with = None
        self.requests = []

    @property
    def realm(self):
        return self.url + "/token"

    def request_count(self):
        with self.lock:
            return len(self.requests)

    def reset(self):
        with self.lock:
            self.requests.clear()

    def make_token(self, account, scopes, expires_in):
        now = int(time.time())
        access = []
        for s in scopes:
            parts = s.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                               "actions": [a for a in parts[-1].split(",") if a]})
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {"iss": self.ISSUER, "sub": account, "aud": self.SERVICE, "exp": now + expires_in,
                  "nbf": now - 5, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "." +
                         _b64url(json.dumps(claims).encode())).encode()
        sig = _run([OPENSSL_BIN, "dgst", "-sha256", "-sign", self.key], input=signing_input)
        return signing_input.decode() + "." + _b64url(sig)

    def registry_auth_config(self):
        return {"token": {"realm": self.realm, "service": self.SERVICE, "issuer": self.ISSUER,
                          "rootcertbundle": self.cert}}

    class handler(_BaseHandler):
        def do_GET(self):
            peer = self.peer
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            account = ""
            auth = self.headers.get("Authorization", "")
            ok = peer.users is None
            if auth.startswith("Basic "):
                try:
                    user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                except Exception:
                    user, pw = "", None
                ok = peer.users is None or peer.users.get(user) == pw
                account = user
            with peer.lock:
                peer.requests.append({"account": account, "scopes": q.get("scope", []),
                                      "service": (q.get("service") or [""])[0],
                                      "time": time.monotonic(), "authorized": ok})
                fail, expires_in = peer.fail_with, peer.expires_in
            if u.path != "/token":
                return self.reply(404, {"error": "not found"})
            if fail:
                return self.reply(fail, {"error": "injected failure"})
            if not ok:
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                                  {"WWW-Authenticate": 'Basic realm="token"'})
            tok = peer.make_token(account, q.get("scope", []), 60 if expires_in is None else expires_in)
            doc = {"token": tok, "access_token": tok,
                   "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            if expires_in is not None:
                doc["expires_in"] = expires_in
            self.reply(200, doc)


# --------------------------------------------------------------------------- notification receiver

class NotificationReceiver(_ThreadedPeer):
    """Receives the registry's notification POSTs (envelope {"events": [...]})
    and records (headers, body) pairs; answers `status` (default 200)."""

    def __init__(self):
        super().__init__()
        self.posts = []
        self.status = 200

    @property
    def endpoint(self):
        return self.url + "/events"

    def events(self, action=None):
        with self.lock:
            evs = [e for _, body in self.posts for e in body.get("events", [])]
        return [e for e in evs if action is None or e.get("action") == action]

    def wait_for_event(self, pred, timeout=10.0):
        return wait_until(lambda: next((e for e in self.events() if pred(e)), None), timeout,
                          "a registry notification")

    class handler(_BaseHandler):
        def do_POST(self):
            body = self.read_body(8 << 20)
            try:
                doc = json.loads(body)
            except ValueError:
                doc = {"invalid": body[:200].decode(errors="replace")}
            with self.peer.lock:
                self.peer.posts.append((dict(self.headers.items()), doc))
                status = self.peer.status
            self.reply(status, b"", ctype=None)


# --------------------------------------------------------------------------- registry

class Registry:
    """One docker-registry process with its own config and storage in `directory`.

    auth: None | ("htpasswd", {user: password}) | TokenServer
    tls:  None | CertAuthority (a server certificate for 127.0.0.1/localhost is issued)
    notify: None | dict(url=..., headers={...}) for `notifications: endpoints:`"""

    def __init__(self, directory, auth=None, tls=None, notify=None, name="registry"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.auth, self.tls, self.notify = auth, tls, notify
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.dir, "registry.log")
        self.creds = None  # "user:password" for pushes, when auth needs one
        self.startup_seconds = None

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return ("https://" if self.tls else "http://") + self.host

    def _config(self):
        cfg = {"version": 0.1, "log": {"level": "info", "accesslog": {"disabled": False}},
               "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "data")},
                           "delete": {"enabled": True}, "cache": {"blobdescriptor": "inmemory"}},
               "http": {"addr": self.host, "secret": uuid.uuid4().hex,
                        "headers": {"X-Content-Type-Options": ["nosniff"]}}}
        if self.tls:
            crt, key = self.tls.issue_server(f"{self.name}-tls")
            cfg["http"]["tls"] = {"certificate": crt, "key": key}
        if isinstance(self.auth, tuple) and self.auth[0] == "htpasswd":
            users = self.auth[1]
            path = write_htpasswd(os.path.join(self.dir, "htpasswd"), users)
            cfg["auth"] = {"htpasswd": {"realm": "ias-test", "path": path}}
            u, p = next(iter(users.items()))
            self.creds = f"{u}:{p}"
        elif isinstance(self.auth, TokenServer):
            cfg["auth"] = self.auth.registry_auth_config()
            if self.auth.users:
                u, p = next(iter(self.auth.users.items()))
                self.creds = f"{u}:{p}"
        if self.notify:
            ep = {"name": "ias-test", "url": self.notify["url"], "timeout": "2s", "threshold": 3,
                  "backoff": "1s"}
            if self.notify.get("headers"):
                ep["headers"] = {k: [v] for k, v in self.notify["headers"].items()}
            cfg["notifications"] = {"events": {"includereferences": True}, "endpoints": [ep]}
        return cfg

    def start(self):
        if not os.access(REGISTRY_BIN, os.X_OK):
            raise PeerError(f"{REGISTRY_BIN} missing (Debian package docker-registry)")
        t0 = time.monotonic()
        for _ in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            path = os.path.join(self.dir, "config.yml")
            with open(path, "w") as f:
                json.dump(self._config(), f, indent=1)  # YAML is a superset of JSON
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", path], stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            try:
                wait_until(self._ready, START_TIMEOUT, f"registry on {self.host}")
                self.startup_seconds = time.monotonic() - t0
                return self
            except PeerError:
                if self.proc.poll() is None:
                    self.stop()
                    raise PeerError(f"registry did not answer: {self.log_tail()}")
                if "address already in use" not in self.log_tail():
                    raise PeerError(f"registry exited {self.proc.returncode}: {self.log_tail()}")
        raise PeerError("registry: no free port after 3 attempts")

    def _ready(self):
        if self.proc.poll() is not None:
            raise PeerError(f"registry exited {self.proc.returncode}: {self.log_tail()}")
        try:
            c = self.connection(timeout=1)
            c.request("GET", "/v2/")
            code = c.getresponse().status
            c.close()
            return code in (200, 401)
        except OSError:
            return False

    def connection(self, timeout=10):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls.cert)
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    # ---- content

    def push(self, layout, tag, repo, dest_tag=None, fmt=None, all_=False):
        """skopeo copy oci:LAYOUT:tag docker://HOST/repo:dest_tag; returns the
        digest the registry now serves for the tag."""
        cmd = [SKOPEO_BIN, "--insecure-policy", "copy", "--quiet", "--retry-times", "0"]
        if self.tls:
            cmd += ["--dest-cert-dir", self.tls.cert_dir()]
        else:
            cmd += ["--dest-tls-verify=false"]
        if self.creds:
            cmd += ["--dest-creds", self.creds]
        if fmt:
            cmd += ["--format", fmt]
        if all_:
            cmd += ["--all"]
        cmd += [layout.ref(tag), f"docker://{self.host}/{repo}:{dest_tag or tag}"]
        env = dict(os.environ, REGISTRY_AUTH_FILE=os.path.join(self.dir, "auth.json"))
        _run(cmd, timeout=SKOPEO_TIMEOUT, env=env)
        return self.manifest_digest(repo, dest_tag or tag)

    def request(self, method, path, body=None, headers=None, token=None):
        """(status, headers dict lower-case, body) of one request, with the
        push credentials (basic) or a bearer token when given."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        elif self.creds and isinstance(self.auth, tuple):
            h["Authorization"] = "Basic " + base64.b64encode(self.creds.encode()).decode()
        c = self.connection()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def manifest_digest(self, repo, ref, token=None):
        from registry_images import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
        accept = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])
        if token is None and isinstance(self.auth, TokenServer):
            token = self.auth.make_token("fixture", [f"repository:{repo}:pull"], 60)
        st, h, _ = self.request("HEAD", f"/v2/{repo}/manifests/{ref}", headers={"Accept": accept},
                                token=token)
        if st != 200:
            raise PeerError(f"HEAD {repo}:{ref} -> {st}")
        return h.get("docker-content-digest")

    def push_http(self, layout, tag, repo, dest_tag=None):
        """Push a single-platform image with plain registry API calls (POST + PUT
        per blob, PUT manifest): far quicker than one skopeo process per tag.
        Basic auth uses the push credentials; token auth a token minted here."""
        img = layout.tags[tag]
        tok = None
        if isinstance(self.auth, TokenServer):
            tok = self.auth.make_token("fixture", [f"repository:{repo}:push,pull"], 300)
        request = lambda *a, **kw: self.request(*a, token=tok, **kw)  # noqa: E731
        for digest, data in list(img.blobs())[1:]:
            st, _, _ = request("HEAD", f"/v2/{repo}/blobs/{digest}")
            if st == 200:
                continue
            st, h, b = request("POST", f"/v2/{repo}/blobs/uploads/", body=b"")
            if st != 202:
                raise PeerError(f"upload start {repo} -> {st} {b[:200]!r}")
            loc = urllib.parse.urlsplit(h["location"])
            sep = "&" if loc.query else ""
            st, h, b = request("PUT", f"{loc.path}?{loc.query}{sep}digest={digest}", body=data,
                               headers={"Content-Type": "application/octet-stream"})
            if st != 201:
                raise PeerError(f"blob upload {digest} -> {st} {b[:200]!r}")
        st, h, b = request("PUT", f"/v2/{repo}/manifests/{dest_tag or tag}", body=img.manifest_bytes,
                           headers={"Content-Type": img.media_type})
        if st != 201:
            raise PeerError(f"manifest PUT {repo}:{dest_tag or tag} -> {st} {b[:300]!r}")
        return h.get("docker-content-digest")


# --------------------------------------------------------------------------- fault proxy

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length"}
FAULTS = ("status", "retry_after", "slow", "digest_mismatch", "manifest_unknown", "oversize", "reset",
          "paginate")


class Fault:
    def __init__(self, kind, pattern, method=None, times=None, **params):
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULTS}")
        self.kind, self.regex, self.method = kind, re.compile(pattern), method
        self.remaining, self.params, self.hits = times, params, 0

    def matches(self, method, path):
        return ((self.method is None or self.method == method) and self.regex.search(path)
                and (self.remaining is None or self.remaining > 0))


class FaultProxy(_ThreadedPeer):
    """Plain-HTTP reverse proxy in front of a Registry that injects faults on
    requests whose path matches a regex (first matching rule wins):

      status(code)                  answer `code` (default 500), upstream not asked
      retry_after(seconds)          429 with Retry-After: seconds
      slow(delay, after_bytes=None) forward, then wait `delay` s before the headers
                                    (after_bytes=N: send headers and N body bytes, then wait)
      digest_mismatch()             forward, flip one byte of the body (length kept)
      manifest_unknown()            404 {"errors":[{"code":"MANIFEST_UNKNOWN",...}]}
      oversize(size, declare_length=True)
                                    forward, pad the body with zeros up to `size` bytes
                                    (declare_length=False: no Content-Length, body ends at close)
      reset(after_bytes=None)       close the client connection with a TCP RST (after_bytes=N:
                                    after the headers and N body bytes)
      paginate(page_size)           /tags/list pages as Docker Hub serves them: `n` (or
                                    page_size) sorted tags after `last`, a Link rel="next"
                                    header while more remain (distribution 2.8 ignores n)

    add(kind, pattern, method=None, times=None, **params) returns the Fault
    (times=N: only the next N matches). clear() drops all rules. counts
    {(method, path): n} counts every request received (query string dropped);
    count(method=, pattern=) sums them. The Host header is forwarded, so the
    registry's Location headers point back at the proxy."""

    def __init__(self, upstream):
        super().__init__()
        self.upstream = upstream
        self.faults = []
        self.counts = {}

    def add(self, kind, pattern, method=None, times=None, **params):
        f = Fault(kind, pattern, method, times, **params)
        with self.lock:
            self.faults.append(f)
        return f

    def clear(self):
        with self.lock:
            self.faults.clear()

    def reset_counts(self):
        with self.lock:
            self.counts.clear()

    def count(self, method=None, pattern=None):
        rx = re.compile(pattern) if pattern else None
        with self.lock:
            return sum(n for (m, p), n in self.counts.items()
                       if (method is None or m == method) and (rx is None or rx.search(p)))

    def _pick(self, method, path):
        with self.lock:
            self.counts[(method, path)] = self.counts.get((method, path), 0) + 1
            for f in self.faults:
                if f.matches(method, path):
                    f.hits += 1
                    if f.remaining is not None:
                        f.remaining -= 1
                    return f
        return None

    class handler(_BaseHandler):
        def _any(self):
            peer = self.peer
            path = urllib.parse.urlsplit(self.path).path
            body = self.read_body()
            fault = peer._pick(self.command, path)
            kind = fault.kind if fault else None
            p = fault.params if fault else {}
            if kind == "reset" and p.get("after_bytes") is None:
                return self._reset()
            if kind == "status":
                return self.reply(p.get("code", 500), {"errors": [{"code": "UNKNOWN",
                                                                   "message": "injected failure"}]})
            if kind == "retry_after":
                return self.reply(429, {"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]},
                                  {"Retry-After": str(p.get("seconds", 1))})
            if kind == "manifest_unknown":
                return self.reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                                                    "detail": {"path": path}}]})
            status, headers, data = self._forward(body)
            if kind == "paginate" and status == 200:
                headers, data = self._paginate(headers, data, p.get("page_size", 10))
            if kind == "digest_mismatch" and data:
                i = len(data) // 2
                data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
            elif kind == "oversize":
                data = data + b"\0" * max(0, int(p["size"]) - len(data))
            if kind == "slow" and p.get("after_bytes") is None:
                time.sleep(p.get("delay", 5))
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            undeclared = kind == "oversize" and not p.get("declare_length", True)
            if kind == "reset" or undeclared:  # body ends with an RST or at close
                self.send_header("Connection", "close")
                self.end_headers()
                if kind == "reset":
                    self.wfile.write(data[:int(p["after_bytes"])])
                    self.wfile.flush()
                    return self._reset()
                self.wfile.write(data)
                self.close_connection = True
                return
            if self.command == "HEAD":
                up_len = next((v for k, v in headers if k.lower() == "content-length"), "0")
                self.send_header("Content-Length", up_len)
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if kind == "slow" and p.get("after_bytes") is not None:
                n = int(p["after_bytes"])
                self.wfile.write(data[:n])
                self.wfile.flush()
                time.sleep(p.get("delay", 5))
                data = data[n:]
            try:
                self.wfile.write(data)
            except OSError:
                self.close_connection = True

        def _reset(self):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            self.close_connection = True
            self.connection.close()

        def _paginate(self, headers, data, page_size):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            n = int((q.get("n") or [page_size])[0])
            last = (q.get("last") or [""])[0]
            doc = json.loads(data)
            tags = sorted(t for t in doc.get("tags") or [] if t > last)
            doc["tags"] = tags[:n]
            headers = [(k, v) for k, v in headers if k.lower() != "link"]
            if len(tags) > n:
                nq = urllib.parse.urlencode({"n": n, "last": doc["tags"][-1]})
                headers.append(("Link", f'<{u.path}?{nq}>; rel="next"'))
            return headers, json.dumps(doc).encode()

        def _forward(self, body):
            up = self.peer.upstream
            c = up.connection(timeout=30)
            h = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                c.request(self.command, self.path, body=body if body or self.command in ("PUT", "POST", "PATCH") else None,
                          headers=h)
                r = c.getresponse()
                return r.status, r.getheaders(), r.read()
            finally:
                c.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any


# --------------------------------------------------------------------------- CONNECT proxy

class _ConnectHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        with self.peer.lock:
            self.peer.targets.append(self.path)
        try:
            up = socket.create_connection((host, int(port)), timeout=10)
        except (OSError, ValueError):
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        socks = [self.connection, up]

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        t = threading.Thread(target=pipe, args=(up, self.connection), daemon=True)
        t.start()
        pipe(self.connection, up)
        t.join(10)
        up.close()
        del socks


class ConnectProxy(_ThreadedPeer):
    """A forward proxy for https:// (CONNECT only), as HTTPS_PROXY names one; `targets`
    lists the host:port of every tunnel asked for."""

    handler = _ConnectHandler

    def __init__(self):
        super().__init__()
        self.targets = []
