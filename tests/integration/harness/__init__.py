"""Test harness of the integration suite: real servers and fakes on loopback ports.

Everything here is hermetic: each server gets its own temporary directory and its own free
port on 127.0.0.1, runs in its own process group (or thread), and is stopped on teardown, at
interpreter exit and on SIGTERM, even when a test fails or the run is interrupted.
The pytest fixtures that wrap these classes live in tests/integration/conftest.py;
docs/TESTING.md describes them.
"""

from .cli import CliResult, ServiceProcess, run_binary
from .db import db_exec, db_query, db_scalar, sqlite_path, sqlite_url
from .http import (
    CLOSE,
    Close,
    Delay,
    ErrorJson,
    FromFunction,
    Handler,
    Html,
    InvalidJson,
    Json,
    MockHTTPServer,
    Raw,
    RecordedRequest,
    Redirect,
    Response,
    Sequence,
    Status,
    WebhookSink,
)
from .net import free_port, wait_for_port
from .postgres import PostgresServer
from .procs import ManagedProcess
from .redis_server import RedisServer
from .smtp import SmtpMessage, SmtpSink

__all__ = [
    "CliResult", "ServiceProcess", "run_binary",
    "db_exec", "db_query", "db_scalar", "sqlite_path", "sqlite_url",
    "CLOSE", "Close", "Delay", "ErrorJson", "FromFunction", "Handler", "Html", "InvalidJson", "Json", "MockHTTPServer",
    "Raw", "RecordedRequest", "Redirect", "Response", "Sequence", "Status", "WebhookSink",
    "free_port", "wait_for_port",
    "PostgresServer", "ManagedProcess", "RedisServer", "SmtpMessage", "SmtpSink",
]
