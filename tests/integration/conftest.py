"""Fixtures of the integration suite (docs/TESTING.md describes each one).

Everything is hermetic: own temporary directory, own free loopback ports, own servers, all
stopped on teardown (and at exit or on SIGTERM via harness.procs), real binaries from
$SMPLAT_BIN_DIR (default build/test/bin).

    bins            session   Bins: paths of smplat, provider-replay, provider-alerts
    postgres        session   PostgresServer; postgres.new_database() -> fresh URL
    redis_server    function  RedisServer; .url, .restart(), .client()
    redis_factory   function  () -> another RedisServer (all stopped at teardown)
    mock_provider   function  MockHTTPServer (programmable provider)
    webhook_sink    function  WebhookSink
    smtp_sink       function  SmtpSink
    run_cli         function  run_cli(args, env=None, db_url=None, timeout=60, ...) -> CliResult
    service         function  service(args, env=None, db_url=None, ...) -> ServiceProcess
    sqlite_db       function  sqlite:///<tmp_path>/t.db
    db              function  parametrised: ids "sqlite" and "postgresql", a fresh empty DB URL
    migrated_db     function  db after `smplat migrate` succeeded
"""

import os
import pathlib
import signal

import pytest

from harness import (MockHTTPServer, PostgresServer, RedisServer, ServiceProcess, SmtpSink,
                     WebhookSink, free_port, run_binary, sqlite_url)
from harness.cli import PROGRAMS

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    # Debian's kombu and celery still use the entry-point API Python 3.10 deprecated; the
    # warning is theirs, not ours, and says nothing about the tests.
    config.addinivalue_line("filterwarnings",
                            "ignore:SelectableGroups dict interface is deprecated:DeprecationWarning")


# --------------------------------------------------------------------------------------------
# Binaries


class Bins(dict):
    """name -> absolute path for smplat, provider-replay, provider-alerts; also attributes
    .smplat, .provider_replay, .provider_alerts and .dir."""

    def __getattr__(self, name):
        key = name.replace("_", "-")
        if key in self:
            return self[key]
        raise AttributeError(name)


def bin_dir():
    d = os.environ.get("SMPLAT_BIN_DIR")
    if d:
        p = pathlib.Path(d)
        return p if p.is_absolute() else (pathlib.Path.cwd() / p)
    return REPO_ROOT / "build" / "test" / "bin"


@pytest.fixture(scope="session")
def bins():
    d = bin_dir()
    out = Bins()
    out.dir = str(d)
    missing = []
    for name in PROGRAMS:
        p = d / name
        if p.exists() and os.access(p, os.X_OK):
            out[name] = str(p)
        else:
            missing.append(str(p))
    if missing:
        msg = "binaries missing (build first, or set SMPLAT_BIN_DIR): " + ", ".join(missing)
        if os.environ.get("SMPLAT_SKIP_MISSING_BINS") in ("1", "true", "yes"):
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return out


# --------------------------------------------------------------------------------------------
# Servers


@pytest.fixture(scope="session")
def postgres():
    try:
        srv = PostgresServer()
        srv.start()
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"cannot start PostgreSQL: {e}", pytrace=False)
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture
def redis_server():
    srv = RedisServer()
    try:
        srv.start()
    except Exception as e:  # noqa: BLE001
        srv.cleanup()
        pytest.fail(f"cannot start redis-server: {e}", pytrace=False)
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture
def redis_factory():
    started = []

    def make():
        srv = RedisServer()
        started.append(srv)
        return srv.start()

    try:
        yield make
    finally:
        for s in started:
            s.cleanup()


@pytest.fixture
def mock_provider():
    srv = MockHTTPServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def webhook_sink():
    srv = WebhookSink().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def smtp_sink():
    srv = SmtpSink().start()
    try:
        yield srv
    finally:
        srv.stop()


# --------------------------------------------------------------------------------------------
# Running binaries


def _needs_bins(args):
    return bool(args) and str(args[0]) in PROGRAMS


@pytest.fixture
def run_cli(request, tmp_path):
    """run_cli(args, env=None, db_url=None, timeout=60, stdin=None, cwd=None,
    check_sanitizers=True) -> CliResult (unpacks as rc, stdout, stderr, json)."""

    def run(args, env=None, db_url=None, timeout=60.0, stdin=None, cwd=None, check_sanitizers=True):
        b = request.getfixturevalue("bins") if _needs_bins(args) else None
        return run_binary(list(args), cwd or tmp_path, env=env, db_url=db_url, timeout=timeout,
                          bins=b, stdin=stdin, check_sanitizers=check_sanitizers)

    return run


@pytest.fixture
def service(request, tmp_path):
    """service(args, env=None, db_url=None, ready_path="/healthz", timeout=30, port=None)
    -> ServiceProcess, started and ready. For ["smplat", "serve", ...] without --port, adds
    --host 127.0.0.1 --port <free port>. Stopped (SIGTERM) at teardown; a sanitizer report in
    its output fails the test."""
    started = []

    def start(args, env=None, db_url=None, ready_path="/healthz", timeout=30.0, port=None):
        args = [str(a) for a in args]
        b = request.getfixturevalue("bins") if _needs_bins(args) else None
        if len(args) >= 2 and args[1] == "serve" and not any(a.startswith("--port") for a in args):
            port = port or free_port()
            args += ["--host", "127.0.0.1", "--port", str(port)]
        if ready_path is not None and port is None:
            ready_path = None  # nothing to poll
        svc = ServiceProcess(args, tmp_path, env=env, db_url=db_url, bins=b, port=port)
        started.append(svc)
        return svc.start(ready_path=ready_path, timeout=timeout)

    yield start
    reports = []
    for svc in started:
        svc.stop(signal.SIGTERM)
        rep = svc.sanitizer_report()
        if rep:
            reports.append(f"{svc.name}: {rep}\n{svc.output()[-8000:]}")
    if reports:
        pytest.fail("sanitizer report(s):\n" + "\n".join(reports), pytrace=False)


# --------------------------------------------------------------------------------------------
# Databases


def _backends():
    sel = os.environ.get("SMPLAT_TEST_BACKENDS", "sqlite,postgresql")
    return [b for b in ("sqlite", "postgresql") if b in [s.strip() for s in sel.split(",")]]


@pytest.fixture
def sqlite_db(tmp_path):
    return sqlite_url(tmp_path)


@pytest.fixture(params=_backends(), ids=lambda b: b)
def db(request, tmp_path):
    """A fresh, empty database URL: sqlite:///<tmp>/t.db or a new PostgreSQL database.
    SMPLAT_TEST_BACKENDS=sqlite (or postgresql) restricts the run to one backend."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    pg = request.getfixturevalue("postgres")
    url = pg.new_database()
    try:
        yield url
    finally:
        pg.drop_database(url)


@pytest.fixture
def migrated_db(db, run_cli):
    """db with the schema created by `smplat migrate` (which must exit 0)."""
    run_cli(["smplat", "migrate"], db_url=db).check(0)
    return db


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests():
    """Objects a test leaves behind (Celery results, sockets) are finalised at its end, while
    the servers they point at still run, not in the middle of a later test."""
    yield
    import gc
    gc.collect()


def pytest_sessionfinish(session, exitstatus):
    """Celery results a test left behind would, when Python finally destroys them at exit,
    try to unsubscribe on a Redis that is long gone and print a traceback. Detach them from
    their backend first: there is nothing left to cancel."""
    import gc
    try:
        from celery.result import AsyncResult
    except ImportError:
        return
    for obj in gc.get_objects():
        if isinstance(obj, AsyncResult):
            obj.backend = None

