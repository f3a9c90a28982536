"""Child processes the harness starts, and the guarantee that they are stopped.

Every server runs in a process group of its own (start_new_session), so a Ctrl-C on the
terminal reaches pytest only, and stopping a server stops whatever it forked too. All live
processes are kept in a registry that is emptied on teardown, at interpreter exit (atexit) and
on SIGTERM/SIGHUP. When util-linux `setpriv` is available, children also get
PR_SET_PDEATHSIG=SIGKILL, so they die with pytest even if pytest is killed with SIGKILL.
"""

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import threading
import time

_registry = set()
_lock = threading.Lock()
_SETPRIV = shutil.which("setpriv") or ("/usr/bin/setpriv" if os.path.exists("/usr/bin/setpriv") else None)


def _wrap(argv, user=None):
    """Prefixes argv with setpriv (parent-death signal and, when root, a change of user)."""
    if user is not None and os.geteuid() != 0:
        user = None  # not root: run as ourselves
    if _SETPRIV:
        pre = [_SETPRIV, "--pdeathsig", "KILL"]
        if user is not None:
            pw = pwd.getpwnam(user)
            pre += [f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"]
        return pre + ["--"] + list(argv)
    if user is not None:
        return ["runuser", "-u", user, "--"] + list(argv)
    return list(argv)


class ManagedProcess:
    """A child process in its own process group, stopped for sure.

    argv: the command; env: the complete environment (None: inherit); cwd: working directory;
    user: run as this user when we are root (postgres refuses to run as root);
    stdout/stderr: file paths the output goes to (None: discarded).
    """

    def __init__(self, argv, env=None, cwd=None, user=None, stdout=None, stderr=None, name=None):
        self.argv = list(argv)
        self.name = name or os.path.basename(self.argv[0])
        self.stdout_path = stdout
        self.stderr_path = stderr
        out = open(stdout, "ab") if stdout else subprocess.DEVNULL
        err = open(stderr, "ab") if stderr else (out if stdout else subprocess.DEVNULL)
        try:
            self.popen = subprocess.Popen(
                _wrap(self.argv, user), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True)
        finally:
            for f in (out, err):
                if hasattr(f, "close"):
                    f.close()
        with _lock:
            _registry.add(self)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, sig):
        """Sends sig to the whole process group (no-op once it is gone)."""
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig to the group, waits up to timeout, then SIGKILLs it. Returns the exit code."""
        if self.alive():
            self.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Kill leftovers of the group even when the leader already exited.
        self.send_signal(signal.SIGKILL)
        try:
            rc = self.popen.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        with _lock:
            _registry.discard(self)
        return rc

    def output(self):
        """The captured stdout/stderr text so far (for error messages)."""
        parts = []
        for p in dict.fromkeys([self.stdout_path, self.stderr_path]):
            if p and os.path.exists(p):
                with open(p, "rb") as f:
                    parts.append(f.read().decode("utf-8", "replace"))
        return "".join(parts)


def stop_all():
    """Stops every process still registered (atexit and signal path)."""
    with _lock:
        procs = list(_registry)
    for p in procs:
        try:
            p.stop(timeout=3.0)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(stop_all)


def _install_signal_handlers():
    # Only the main thread may install handlers; pytest imports conftest there.
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        prev = signal.getsignal(sig)

        def handler(signum, frame, _prev=prev):
            stop_all()
            if callable(_prev):
                _prev(signum, frame)
            else:
                raise SystemExit(128 + signum)

        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):
            pass


_install_signal_handlers()


def wait_until(predicate, timeout=10.0, interval=0.02):
    """Polls predicate until it returns a true value or timeout passes; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)
