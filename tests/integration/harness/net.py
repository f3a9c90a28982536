"""Loopback ports: pick a free one, wait until something listens on one."""

import socket
import time


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago.

    The kernel picks it (bind to port 0); the socket is closed again before returning, so a
    server started right after normally gets it. Servers started by the harness retry with a
    new port when the bind fails anyway.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(port, timeout=10.0, host="127.0.0.1", alive=None):
    """Waits until a TCP connect to host:port succeeds.

    alive, when given, is a callable returning False once the server process died: the wait
    then stops early. Returns True when the port accepts connections, False otherwise.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open(port, host):
            return True
        if alive is not None and not alive():
            return False
        time.sleep(0.02)
    return False
