"""Fixtures: the real image-apiserver binary on a free loopback port.

* `backend`         session-scoped, params "embedded" and "etcd" (narrowed by
                    IAS_E2E_BACKENDS): every test using `server` or
                    `server_factory` runs once per backend, ids [embedded]/[etcd].
* `server`          one session-wide server per backend (most tests); checked
                    for death after every test, stopped with SIGTERM when its
                    backend's tests are done.
* `server_factory`  function-scoped: start extra servers (flags, restarts,
                    crashes) on the current backend; each is stopped and
                    checked at test teardown.
* `etcd`            the shared private etcd (e2e_helpers.Etcd), started on
                    first use, stopped at session end.
* `etcd_factory`    function-scoped: private Etcd instances for fault tests.
* `kubectl`         server.kubectl bound to the session server.
* `http`            raw HTTP client (e2e_helpers.Http) for the session server.
* `ns`              a fresh namespace name (namespaces are implicit).

A server that exits non-zero after SIGTERM, dies on its own, or prints a
sanitizer report fails the test (or the session) that owns it. So does an
etcd that dies, hangs on SIGTERM, or is left paused or stopped by a test.

Mark a test that is about the SQLite files themselves with
`@pytest.mark.embedded_only("why")`: its [etcd] instance is skipped."""

import os

import pytest

from e2e_helpers import (ETCD_BIN, Etcd, EtcdError, Server, ServerError, new_ns,
                         remove_binary_copy, stop_and_check)
from registry_fixtures import *  # noqa: F401,F403  registry peers (issue 9 importer tests)

KNOWN_BACKENDS = ("embedded", "etcd")
BACKENDS = [b.strip() for b in os.environ.get("IAS_E2E_BACKENDS", "embedded,etcd").split(",")
            if b.strip()]

_session = {"server": None, "etcd": None}


def _ci():
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _require_etcd():
    """Skip (fail under CI=true) when etcd cannot be used in this run."""
    if "etcd" not in BACKENDS:
        pytest.skip("etcd backend not selected (IAS_E2E_BACKENDS)")
    if not os.access(ETCD_BIN, os.X_OK):
        msg = (f"etcd backend: {ETCD_BIN} is not installed (Debian package etcd-server, "
               "scripts/install-deps.sh test)")
        if _ci():
            pytest.fail(msg + "; required when CI=true", pytrace=False)
        pytest.skip(msg)


def _start_etcd(workdir):
    try:
        e = Etcd(workdir)
        return e.start()
    except EtcdError as ex:
        pytest.fail(f"private etcd did not start: {ex}", pytrace=False)


def _stop_etcd(e, what):
    e.stop()
    problems = e.problems()
    if problems:
        pytest.fail(f"{what}: " + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def etcd(tmp_path_factory):
    _require_etcd()
    e = _start_etcd(tmp_path_factory.mktemp("etcd"))
    _session["etcd"] = e
    yield e
    _session["etcd"] = None
    _stop_etcd(e, "shared etcd")


@pytest.fixture
def etcd_factory(tmp_path):
    """make(name=None) -> a started private Etcd, stopped and checked at teardown.
    server_factory depends on this, so such an etcd outlives the servers on it."""
    started = []

    def make(name=None):
        _require_etcd()
        e = _start_etcd(tmp_path / (name or f"etcd{len(started)}"))
        started.append(e)
        return e

    yield make
    stop_and_check(started)


@pytest.fixture(scope="session")
def backend(request):
    """The storage backend ("embedded" or "etcd") of `server`/`server_factory`;
    parametrised by pytest_generate_tests below."""
    if request.param == "etcd":
        request.getfixturevalue("etcd")  # lazily: only once an etcd test runs
    return request.param


def _backend_etcd(request, backend):
    return request.getfixturevalue("etcd") if backend == "etcd" else None


@pytest.fixture(scope="session")
def server(backend, request, tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp(f"server-{backend}"),
                 etcd=_backend_etcd(request, backend))
    try:
        srv.start()
    except ServerError as e:
        pytest.fail(f"{e}\n" + "\n".join(srv.problems()), pytrace=False)
    _session["server"] = srv
    yield srv
    _session["server"] = None
    srv.stop()
    problems = srv.problems()
    if problems:
        pytest.fail(f"session server ({backend}): " + "\n".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def _session_health():
    """Attribute a crash of the shared server (or a dead, stopped or paused
    shared etcd) to the test that caused it, and bring it back (same data) so
    later tests still run."""
    yield
    failures = []
    e = _session["etcd"]
    if e is not None:
        if e.paused:
            e.resume()
            failures.append("the test left the shared etcd paused")
        died = e.check_alive()
        if died or not e.alive():
            failures.append(died or "the test left the shared etcd stopped")
            e.start()
    srv = _session["server"]
    if srv is not None:
        died = srv.check_alive()
        if died:
            srv.start()
            failures.append("shared server " + died)
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture
def server_factory(backend, request, tmp_path, etcd_factory):
    """make(*flags, data_dir=None, name=None, etcd=None, env=None): a started Server on
    the current backend; etcd= puts it on another Etcd (e.g. from etcd_factory); env= adds
    environment variables."""
    started = []
    shared = _backend_etcd(request, backend)

    def make(*args, data_dir=None, name=None, etcd=None, env=None, ca_file=None):
        workdir = tmp_path / (name or f"srv{len(started)}")
        srv = Server(workdir, extra_args=args, data_dir=data_dir, etcd=etcd or shared, env=env,
                     ca_file=ca_file)
        started.append(srv)
        try:
            srv.start()
        except ServerError as e:
            pytest.fail(f"{e}", pytrace=False)
        return srv

    yield make
    stop_and_check(started)


@pytest.fixture
def kubectl(server):
    return server.kubectl


@pytest.fixture
def http(server):
    return server.http


@pytest.fixture
def ns():
    return new_ns()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than ~10 s")
    config.addinivalue_line("markers", "embedded_only(reason): about the SQLite store's "
                            "files; the [etcd] instance is skipped with the reason")
    bad = [b for b in BACKENDS if b not in KNOWN_BACKENDS]
    if bad or not BACKENDS:
        raise pytest.UsageError(f"IAS_E2E_BACKENDS={os.environ.get('IAS_E2E_BACKENDS')!r}: "
                                f"use a comma-separated subset of {','.join(KNOWN_BACKENDS)}")


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc):
    # Like params= on the fixture, but applied after the tests' own parametrize
    # marks, so the backend comes last in the id: test_x[a-1-etcd], test_y[etcd].
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    for item in items:
        mark = item.get_closest_marker("embedded_only")
        params = getattr(getattr(item, "callspec", None), "params", {})
        if mark is not None and params.get("backend") == "etcd":
            reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "")
            item.add_marker(pytest.mark.skip(
                reason=f"embedded store only: {reason or 'checks the SQLite files'}"))


def pytest_sessionfinish(session, exitstatus):
    remove_binary_copy()
