"""Fixtures: the real image-apiserver binary on a free loopback port.

* `server`          one session-wide server (most tests); checked for death
                    after every test, stopped with SIGTERM at session end.
* `server_factory`  function-scoped: start extra servers (flags, restarts,
                    crashes); each is stopped and checked at test teardown.
* `kubectl`         server.kubectl bound to the session server.
* `http`            raw HTTP client (e2e_helpers.Http) for the session server.
* `ns`              a fresh namespace name (namespaces are implicit).

A server that exits non-zero after SIGTERM, dies on its own, or prints a
sanitizer report fails the test (or the session) that owns it."""

import pytest

from e2e_helpers import Server, ServerError, new_ns, remove_binary_copy

_session = {"server": None}


def _start(workdir, args=(), data_dir=None):
    srv = Server(workdir, extra_args=args, data_dir=data_dir)
    try:
        srv.start()
    except ServerError as e:
        problems = srv.problems()
        pytest.fail(f"{e}\n" + "\n".join(problems), pytrace=False)
    return srv


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = _start(tmp_path_factory.mktemp("server"))
    _session["server"] = srv
    yield srv
    _session["server"] = None
    srv.stop()
    problems = srv.problems()
    if problems:
        pytest.fail("session server: " + "\n".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def _session_server_health():
    """Attribute a crash of the shared server to the test that caused it, and
    restart it (same data dir) so later tests still run."""
    yield
    srv = _session["server"]
    if srv is None:
        return
    died = srv.check_alive()
    if died:
        srv.start()
        pytest.fail("shared server " + died, pytrace=False)


@pytest.fixture
def server_factory(tmp_path):
    started = []

    def make(*args, data_dir=None, name=None):
        workdir = tmp_path / (name or f"srv{len(started)}")
        srv = Server(workdir, extra_args=args, data_dir=data_dir)
        started.append(srv)
        try:
            srv.start()
        except ServerError as e:
            pytest.fail(f"{e}", pytrace=False)
        return srv

    yield make
    problems = []
    for srv in started:
        srv.stop()
        problems += srv.problems()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


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


def pytest_sessionfinish(session, exitstatus):
    remove_binary_copy()
