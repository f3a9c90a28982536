"""Running our binaries: one-shot commands (run_binary) and long-running services
(ServiceProcess), each with a clean environment and the test's own directory as cwd.

The environment a binary sees is only: PATH, HOME (= cwd), the sanitizer options
(ASAN_OPTIONS=detect_leaks=1:abort_on_error=0, UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1,
unless the outer environment sets them; LSAN_OPTIONS and ASAN_SYMBOLIZER_PATH pass through),
DATABASE_URL when db_url is given, and the env the test passes (a None value removes a key).
A report of AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer on stderr fails the
test even when the exit status is the expected one.
"""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from .net import free_port
from .procs import ManagedProcess

PROGRAMS = ("smplat", "provider-replay", "provider-alerts")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")


def sanitizer_report(text):
    """The first sanitizer report line in text, or None."""
    for line in text.splitlines():
        if any(m in line for m in SANITIZER_MARKERS):
            return line
    return None


def clean_env(cwd, env=None, db_url=None):
    out = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(cwd),
        "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0"),
        "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
    }
    for k in ("LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH"):
        if k in os.environ:
            out[k] = os.environ[k]
    if db_url is not None:
        out["DATABASE_URL"] = db_url
    for k, v in (env or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v if isinstance(v, str) else (("true" if v else "false") if isinstance(v, bool) else str(v))
    return out


def resolve_program(name, bins):
    """'smplat' / 'provider-replay' / 'provider-alerts' -> path from bins; paths as given."""
    if bins is not None and name in PROGRAMS:
        return str(bins[name])
    return str(name)


class CliResult:
    """The outcome of one command: returncode, stdout (str), stderr (str), json (stdout parsed
    as JSON, or None when it is not JSON), argv, duration (seconds).
    Unpacks as a 4-tuple: rc, out, err, data = run_cli([...])."""

    __slots__ = ("returncode", "stdout", "stderr", "json", "argv", "duration")

    def __init__(self, returncode, stdout, stderr, argv, duration):
        self.returncode, self.stdout, self.stderr, self.argv, self.duration = \
            returncode, stdout, stderr, argv, duration
        try:
            self.json = json.loads(stdout) if stdout.strip() else None
        except ValueError:
            self.json = None

    def __iter__(self):
        return iter((self.returncode, self.stdout, self.stderr, self.json))

    def __getitem__(self, i):
        return (self.returncode, self.stdout, self.stderr, self.json)[i]

    def __len__(self):
        return 4

    def describe(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode} after {self.duration:.2f}s\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-8000:]}")

    def check(self, returncode=0):
        """Asserts the exit status (default 0); returns self for chaining."""
        assert self.returncode == returncode, f"expected exit {returncode}\n" + self.describe()
        return self

    def __repr__(self):
        return f"<CliResult rc={self.returncode} argv={self.argv!r}>"


def run_binary(args, cwd, env=None, db_url=None, timeout=60.0, bins=None, stdin=None,
               check_sanitizers=True):
    """Runs args (args[0] a program name or path) to completion; returns a CliResult.

    Raises AssertionError on timeout (after killing the process group) and, when
    check_sanitizers, when stderr holds a sanitizer report."""
    argv = [resolve_program(args[0], bins)] + [str(a) for a in args[1:]]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=str(cwd), env=clean_env(cwd, env, db_url),
                         stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(stdin.encode() if isinstance(stdin, str) else stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        res = CliResult(p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                        argv, time.monotonic() - t0)
        raise AssertionError(f"timed out after {timeout}s\n" + res.describe())
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    res = CliResult(p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                    argv, time.monotonic() - t0)
    if check_sanitizers:
        rep = sanitizer_report(res.stderr)
        assert rep is None, f"sanitizer report: {rep}\n" + res.describe()
    return res


class ServiceProcess:
    """A long-running binary (smplat serve, smplat worker, ...) started in the background.

    start(ready_path="/healthz", timeout=30): for serve, waits until GET ready_path answers 200
    (ready_path=None: waits only until the process is up for 0.2 s).
    Attributes: port (the --port given, or None), url ("http://127.0.0.1:P"), proc (ManagedProcess),
    log_path (stdout+stderr). stop(sig=SIGTERM, timeout=15) -> exit code; output() -> log text.
    """

    def __init__(self, args, cwd, env=None, db_url=None, bins=None, port=None, name=None):
        self.args = [resolve_program(args[0], bins)] + [str(a) for a in args[1:]]
        self.cwd = str(cwd)
        self.env = clean_env(cwd, env, db_url)
        self.port = port
        self.name = name or os.path.basename(self.args[0])
        self.log_path = os.path.join(self.cwd, f"{self.name}-{id(self):x}.log")
        self.proc = None
        self.returncode = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path="/healthz", timeout=30.0):
        self.proc = ManagedProcess(self.args, env=self.env, cwd=self.cwd, stdout=self.log_path, name=self.name)
        deadline = time.monotonic() + timeout
        if ready_path is None:
            time.sleep(0.2)
            if not self.proc.alive():
                raise AssertionError(f"{self.name} exited early ({self.proc.popen.returncode}):\n"
                                     + self.output()[-8000:])
            return self
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise AssertionError(f"{self.name} exited before ready ({self.proc.popen.returncode}):\n"
                                     + self.output()[-8000:])
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.05)
        self.proc.stop(signal.SIGKILL)
        raise AssertionError(f"{self.name} not ready after {timeout}s:\n" + self.output()[-8000:])

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Sends sig, waits up to timeout (then SIGKILL); returns the exit code."""
        if self.proc is not None:
            self.returncode = self.proc.stop(sig=sig, timeout=timeout)
        return self.returncode

    def output(self):
        if os.path.exists(self.log_path):
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        return ""

    def sanitizer_report(self):
        return sanitizer_report(self.output())


def pick_port():
    return free_port()
