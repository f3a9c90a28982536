"""A private redis-server on a free loopback port, without persistence."""

import os
import shutil
import signal
import tempfile

from .net import free_port, wait_for_port
from .procs import ManagedProcess


class RedisError(RuntimeError):
    pass


class RedisServer:
    """start() / stop() / restart() (same port) / cleanup(); url (redis://127.0.0.1:P/0),
    url_for_db(n); client(db=0) -> redis.Redis (decode_responses=True).

    Attributes: port, host ("127.0.0.1"), base_dir, log_path.
    """

    host = "127.0.0.1"

    def __init__(self, binary=None, base_dir=None):
        self.binary = binary or os.environ.get("SMPLAT_REDIS_SERVER") or shutil.which("redis-server") \
            or "/usr/bin/redis-server"
        if not os.path.exists(self.binary):
            raise RedisError("redis-server not found (set SMPLAT_REDIS_SERVER)")
        self._own_dir = base_dir is None
        self.base_dir = base_dir or tempfile.mkdtemp(prefix="smplat-redis-")
        self.log_path = os.path.join(self.base_dir, "redis.log")
        self.port = None
        self.proc = None

    def start(self, timeout=10.0):
        last = ""
        for _ in range(5):
            port = self.port or free_port()
            argv = [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.base_dir, "--daemonize", "no",
                    "--protected-mode", "yes", "--loglevel", "warning"]
            self.proc = ManagedProcess(argv, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                       cwd=self.base_dir, stdout=self.log_path, name="redis-server")
            if wait_for_port(port, timeout, alive=self.proc.alive):
                self.port = port
                return self
            last = self.proc.output()[-2000:]
            self.proc.stop()
            self.proc = None
            if self.port is not None:
                # restart() on a fixed port: the old socket may linger briefly; retry same port.
                continue
        raise RedisError("redis-server did not start:\n" + last)

    def stop(self):
        if self.proc is not None:
            self.proc.stop(sig=signal.SIGTERM, timeout=5.0)
            self.proc = None

    def restart(self, down_seconds=0.0):
        """Stops the server and starts it again on the same port (data is lost: no persistence).

        down_seconds: how long the server stays down in between.
        """
        import time
        self.stop()
        if down_seconds:
            time.sleep(down_seconds)
        return self.start()

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    @property
    def url(self):
        """redis://127.0.0.1:P/0"""
        return self.url_for_db(0)

    def url_for_db(self, db):
        return f"redis://{self.host}:{self.port}/{db}"

    def client(self, db=0):
        """A python-redis client (decode_responses=True) on this server."""
        import redis
        return redis.Redis(host=self.host, port=self.port, db=db, decode_responses=True)
