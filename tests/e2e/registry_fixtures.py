"""pytest fixtures for registry peers (imported by conftest.py). See README.md
"Registry peers" and registry_peers.py / registry_images.py.

* `registry_layouts`      session: the standard OCI layouts (registry_images.standard_layouts)
* `registry`              session: a plain-HTTP registry holding the standard images;
                          `registry.content["repo:tag"]` is the digest it serves
* `registry_factory`      function: make(auth=, tls=, notify=, name=, content=) -> started Registry
* `registry_session_factory` session: the same, for registries shared by many tests
* `registry_ca`               session: CertAuthority (server certificates for 127.0.0.1/localhost)
* `token_server`          function: TokenServer, users {"importer": "s3cret"}
* `fault_proxy`           function: FaultProxy in front of the session `registry`
* `fault_proxy_factory`   function: make(upstream) -> FaultProxy in front of any Registry
* `notification_receiver` function: NotificationReceiver

Every process and thread is stopped at teardown, whether the test passed or
not; a registry that died during a test fails that test."""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from registry_images import MANY_TAGS, standard_layouts
from registry_peers import (REGISTRY_BIN, SKOPEO_BIN, CertAuthority, FaultProxy, NotificationReceiver,
                            Registry, TokenServer)

__all__ = ["registry_layouts", "registry", "_registry_health", "registry_ca", "registry_factory",
           "registry_session_factory",
           "token_server", "fault_proxy", "fault_proxy_factory", "notification_receiver"]

TOKEN_USERS = {"importer": "s3cret"}
STARTUP = {}  # what -> seconds (start-up cost of the session fixtures)


def _require_peers():
    """Skip (fail under CI=true) when the registry or skopeo binary is missing."""
    missing = [b for b in (REGISTRY_BIN, SKOPEO_BIN) if not os.access(b, os.X_OK)]
    if missing:
        msg = (f"registry peers: {', '.join(missing)} not installed (Debian packages "
               "docker-registry, skopeo: scripts/install-deps.sh test)")
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(msg + "; required when CI=true", pytrace=False)
        pytest.skip(msg)


def populate(reg, layouts, workers=6):
    """Push the standard images into reg, in parallel (the registry's own
    per-request cost dominates); returns {"repo:tag": digest}."""
    jobs = {"test/single:v1": lambda: reg.push(layouts["single"], "v1", "test/single"),
            "test/single:v2": lambda: reg.push(layouts["single"], "v2", "test/single"),
            "test/docker:latest": lambda: reg.push(layouts["docker"], "latest", "test/docker", fmt="v2s2"),
            "test/multi:latest": lambda: reg.push(layouts["multi"], "latest", "test/multi", all_=True),
            "test/docker-multi:latest": lambda: reg.push(layouts["multi"], "latest", "test/docker-multi",
                                                         fmt="v2s2", all_=True)}
    many = layouts["many"]
    # the shared base layer first, so the parallel pushes do not all upload it
    jobs_many = {f"test/many:tag-{n:02d}": (lambda t=f"tag-{n:02d}": reg.push_http(many, t, "test/many"))
                 for n in range(MANY_TAGS)}
    content = {"test/many:tag-00": jobs_many.pop("test/many:tag-00")()}
    jobs.update(jobs_many)
    with ThreadPoolExecutor(workers) as ex:
        futures = {k: ex.submit(f) for k, f in jobs.items()}
        content.update({k: f.result(timeout=120) for k, f in futures.items()})
    return content


@pytest.fixture(scope="session")
def registry_layouts(tmp_path_factory):
    _require_peers()
    t0 = time.monotonic()
    layouts = standard_layouts(str(tmp_path_factory.mktemp("oci-layouts")))
    STARTUP["layouts"] = time.monotonic() - t0
    return layouts


@pytest.fixture(scope="session")
def registry(tmp_path_factory, registry_layouts):
    _require_peers()
    t0 = time.monotonic()
    reg = Registry(tmp_path_factory.mktemp("registry"), name="session-registry")
    try:
        reg.start()
        STARTUP["registry"] = reg.startup_seconds
        reg.content = populate(reg, registry_layouts)
        STARTUP["registry+push"] = time.monotonic() - t0
        yield reg
    finally:
        reg.stop()


@pytest.fixture(autouse=True)
def _registry_health(request):
    yield
    reg = request.node.funcargs.get("registry") if hasattr(request.node, "funcargs") else None
    if reg is not None and not reg.alive():
        pytest.fail(f"session registry died: {reg.log_tail()}", pytrace=False)


@pytest.fixture(scope="session")
def registry_ca(tmp_path_factory):
    return CertAuthority(tmp_path_factory.mktemp("test-ca"))


class RegistryFactory:
    """Starts registries in its own directory; close() stops them all (and the
    token servers it made) and returns the ones that died on their own."""

    def __init__(self, directory, layouts_fn):
        self.dir = directory
        self.layouts_fn = layouts_fn
        self.made, self.token_servers = [], []

    def __call__(self, auth=None, tls=None, notify=None, name=None, content=False):
        """auth: None | ("htpasswd", {user: pw}) | "token" (a new TokenServer with
        TOKEN_USERS, as reg.token_server) | a TokenServer. content=True pushes the
        standard images (reg.content as for the session `registry`)."""
        name = name or f"registry{len(self.made)}"
        if auth == "token":
            tdir = os.path.join(self.dir, f"{name}-token")
            os.makedirs(tdir, exist_ok=True)
            auth = TokenServer(tdir, users=dict(TOKEN_USERS))
            self.token_servers.append(auth.start())
        reg = Registry(os.path.join(self.dir, name), auth=auth, tls=tls, notify=notify, name=name)
        reg.token_server = auth if isinstance(auth, TokenServer) else None
        self.made.append(reg)
        reg.start()
        if content:
            reg.content = populate(reg, self.layouts_fn())
        return reg

    def close(self):
        died = [r for r in self.made if r.proc is not None and not r.alive()]
        for r in self.made:
            r.stop()
        for t in self.token_servers:
            t.stop()
        return died


def _factory_fixture(directory, request):
    _require_peers()
    return RegistryFactory(str(directory), lambda: request.getfixturevalue("registry_layouts"))


@pytest.fixture
def registry_factory(tmp_path, request):
    f = _factory_fixture(tmp_path, request)
    try:
        yield f
    finally:
        died = f.close()
    if died:
        pytest.fail(f"registry {died[0].name} died during the test: {died[0].log_tail()}", pytrace=False)


@pytest.fixture(scope="session")
def registry_session_factory(tmp_path_factory, request):
    """Like registry_factory, for registries shared by a whole session (e.g. a
    token-auth registry with content=True reused by many importer tests)."""
    f = _factory_fixture(tmp_path_factory.mktemp("session-registries"), request)
    try:
        yield f
    finally:
        died = f.close()
    if died:
        pytest.fail(f"session registry {died[0].name} died: {died[0].log_tail()}", pytrace=False)


@pytest.fixture
def token_server(tmp_path):
    ts = TokenServer(tmp_path, users=dict(TOKEN_USERS)).start()
    try:
        yield ts
    finally:
        ts.stop()


@pytest.fixture
def fault_proxy(registry):
    fp = FaultProxy(registry).start()
    try:
        yield fp
    finally:
        fp.stop()


@pytest.fixture
def fault_proxy_factory():
    """make(upstream_registry) -> a started FaultProxy in front of any Registry
    (auth, TLS: the proxy speaks plain HTTP to clients, TLS to a TLS upstream)."""
    made = []

    def make(upstream):
        fp = FaultProxy(upstream).start()
        made.append(fp)
        return fp

    try:
        yield make
    finally:
        for fp in made:
            fp.stop()


@pytest.fixture
def notification_receiver():
    nr = NotificationReceiver().start()
    try:
        yield nr
    finally:
        nr.stop()
