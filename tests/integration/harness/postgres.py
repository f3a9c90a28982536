"""A private PostgreSQL server: initdb in a temporary directory, started on a free port.

When we are root (CI), the data directory is chown'ed to the `postgres` user and initdb and the
server run as that user (PostgreSQL refuses to run as root). Authentication is `trust`; the
server listens on 127.0.0.1 only, with its Unix socket in its own directory, and durability is
switched off for speed. new_database() hands each test an empty database.
"""

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time

from .net import free_port
from .procs import ManagedProcess, _wrap


def find_pg_bin():
    """The directory of initdb/postgres: $SMPLAT_PG_BIN, else the newest /usr/lib/postgresql/*/bin."""
    env = os.environ.get("SMPLAT_PG_BIN")
    if env:
        return env
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                   key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0)
    for c in reversed(cands):
        if os.path.exists(os.path.join(c, "initdb")):
            return c
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def psql_path(pg_bin=None):
    for cand in ([os.path.join(pg_bin, "psql")] if pg_bin else []) + ["/usr/bin/psql"]:
        if os.path.exists(cand):
            return cand
    return shutil.which("psql") or "psql"


class PostgresError(RuntimeError):
    pass


class PostgresServer:
    """One PostgreSQL cluster. start() / stop(); url(dbname); new_database() -> URL.

    Attributes: port, host ("127.0.0.1"), user ("postgres"), base_dir, data_dir, log_path.
    """

    user = "postgres"
    host = "127.0.0.1"

    def __init__(self, pg_bin=None):
        self.pg_bin = pg_bin or find_pg_bin()
        if not self.pg_bin or not os.path.exists(os.path.join(self.pg_bin, "postgres")):
            raise PostgresError("PostgreSQL server binaries not found (set SMPLAT_PG_BIN)")
        self.psql = psql_path(self.pg_bin)
        self.port = None
        self.proc = None
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.os_user = "postgres" if os.geteuid() == 0 else None
        # Not under pytest's tmp dir: that one is 0700 root, which the postgres user cannot enter.
        self.base_dir = tempfile.mkdtemp(prefix="smplat-pg-")
        self.data_dir = os.path.join(self.base_dir, "data")
        self.sock_dir = self.base_dir
        self.log_path = os.path.join(self.base_dir, "postgres.log")
        if self.os_user:
            pw = pwd.getpwnam(self.os_user)
            os.chown(self.base_dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.base_dir, 0o700)

    def _env(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "TZ": "UTC", "PGTZ": "UTC"}
        if self.os_user:
            env["HOME"] = self.base_dir
        return env

    def _initdb(self):
        argv = [os.path.join(self.pg_bin, "initdb"), "-D", self.data_dir, "-U", self.user,
                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        r = subprocess.run(_wrap(argv, self.os_user), env=self._env(), cwd=self.base_dir,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if r.returncode != 0:
            # --no-instructions appeared in PostgreSQL 13; retry without it for older servers.
            argv.remove("--no-instructions")
            r = subprocess.run(_wrap(argv, self.os_user), env=self._env(), cwd=self.base_dir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if r.returncode != 0:
            raise PostgresError("initdb failed:\n" + r.stdout.decode("utf-8", "replace"))

    def start(self, timeout=30.0):
        """initdb (first time) and start the server on a free port; waits until it accepts."""
        if not os.path.exists(os.path.join(self.data_dir, "PG_VERSION")):
            self._initdb()
        last = ""
        for _ in range(5):
            port = self.port or free_port()
            argv = [os.path.join(self.pg_bin, "postgres"), "-D", self.data_dir,
                    "-p", str(port), "-k", self.sock_dir,
                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                    "-c", "max_connections=300", "-c", "shared_buffers=32MB",
                    "-c", "log_min_messages=warning", "-c", "TimeZone=UTC"]
            # The log file must be writable by the server user: create it as ours, then chown.
            open(self.log_path, "ab").close()
            if self.os_user:
                pw = pwd.getpwnam(self.os_user)
                os.chown(self.log_path, pw.pw_uid, pw.pw_gid)
            self.proc = ManagedProcess(argv, env=self._env(), cwd=self.base_dir, user=self.os_user,
                                       stdout=self.log_path, name="postgres")
            self.port = port
            if self._wait_ready(timeout):
                return self
            last = self.proc.output()[-4000:]
            self.proc.stop()
            self.proc = None
            self.port = None  # maybe the port was taken: try another one
        raise PostgresError("PostgreSQL did not start:\n" + last)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.proc.alive():
                return False
            r = subprocess.run([self.psql, "-X", "-q", "-t", "-d", self.url("postgres"), "-c", "SELECT 1"],
                               env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if r.returncode == 0:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        """Fast shutdown (SIGINT), then SIGKILL if needed. Keeps the data directory."""
        if self.proc is not None:
            import signal
            self.proc.stop(sig=signal.SIGINT, timeout=15.0)
            self.proc = None

    def restart(self):
        """Stops and starts the server again on the same port (fault tests)."""
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def url(self, dbname="postgres"):
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def psql_run(self, sql, dbname="postgres", check=True):
        """Runs sql through psql (-v ON_ERROR_STOP=1) against dbname; returns stdout text."""
        r = subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(dbname),
                            "-c", sql], env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode != 0:
            raise PostgresError(f"psql failed ({r.returncode}): {r.stderr.decode('utf-8', 'replace')}")
        return r.stdout.decode("utf-8", "replace")

    def new_database(self, prefix="t"):
        """Creates an empty database and returns its URL postgresql://postgres@127.0.0.1:PORT/NAME."""
        with self._lock:
            name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        # template0: independent of anything a test may have left in template1.
        self.psql_run(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url_or_name):
        name = url_or_name.rsplit("/", 1)[-1]
        self.psql_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)
