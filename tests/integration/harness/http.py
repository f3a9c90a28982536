"""Programmable HTTP servers on loopback: the mock provider and the webhook sink.

A MockHTTPServer is a real HTTP/1.1 server (keep-alive, Content-Length on every response, a
thread per connection, so a slow answer never blocks another request) running in a background
thread of the test process. It records every request (method, path, headers, body bytes,
arrival time) and answers each path with a programmable behaviour:

    srv.on("/orders", Json({"order": "42"}))           # 200 application/json
    srv.on("/fail", Status(500))                        # 500 {"error": "Internal Server Error"}
    srv.on("/busy", Status(429, retry_after=1))
    srv.on("/html", Html())                             # 200 text/html
    srv.on("/bad", InvalidJson())                       # 200 application/json, not JSON
    srv.on("/err", ErrorJson("out of stock"))           # 200 {"error": "out of stock"}
    srv.on("/moved", Redirect("/elsewhere"))            # 302 with Location
    srv.on("/slow", Delay(5))                           # answers Json() after 5 s
    srv.on("/drop", Close())                            # closes without a response
    srv.on("/flaky", Sequence([500, Close(), Json()]))  # one per request, then the last again

Paths match the request path without its query string exactly; a key ending in "*" matches
by prefix. Unmatched paths get the default behaviour (Json(): {"order": "<n>", "status": "ok"}
with n counting 1, 2, ... per server).
"""

import http
import itertools
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


# --------------------------------------------------------------------------------------------
# Recorded requests and responses


class RecordedRequest:
    """One request as the server saw it.

    method (str, upper case), path (str, as sent, with query), route (path without query),
    query (dict name -> list of values), headers (list of (name, value) as sent),
    body (bytes), time (time.time() at arrival), index (0-based arrival order on this server).
    """

    __slots__ = ("method", "path", "route", "query", "headers", "body", "time", "index")

    def __init__(self, method, path, headers, body, index):
        self.method = method
        self.path = path
        parts = urlsplit(path)
        self.route = parts.path
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.time = time.time()
        self.index = index

    def header(self, name, default=None):
        """The first value of header name (case-insensitive), or default."""
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return default

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body parsed as JSON (raises ValueError when it is not JSON)."""
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<RecordedRequest {self.method} {self.path} {len(self.body)}B>"


class Response:
    """What a behaviour answers: status, headers (list of pairs), body bytes."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status, body=b"", headers=None, content_type=None):
        self.status = int(status)
        self.body = body if isinstance(body, bytes) else str(body).encode("utf-8")
        self.headers = list(headers.items() if isinstance(headers, dict) else (headers or []))
        if content_type and not any(k.lower() == "content-type" for k, _ in self.headers):
            self.headers.insert(0, ("Content-Type", content_type))


CLOSE = object()  # a behaviour's answer meaning "close the connection, send nothing"


def _phrase(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def _json_bytes(obj):
    return json.dumps(obj, separators=(", ", ": ")).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Behaviours: callables (request, server) -> Response | CLOSE


class Handler:
    """Base class of behaviours; subclasses implement respond(request, server)."""

    def respond(self, req, server):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, req, server):
        return self.respond(req, server)


class Json(Handler):
    """status (200) with a JSON body. body None: {"order": "<n>", "status": "ok"} (n per server,
    1, 2, ...). body may also be a callable(request) -> object, computed per request."""

    def __init__(self, body=None, status=200, headers=None, content_type="application/json"):
        self.body, self.status, self.headers, self.content_type = body, status, headers, content_type

    def respond(self, req, server):
        if self.body is None:
            obj = {"order": str(server.next_order()), "status": "ok"}
        elif callable(self.body):
            obj = self.body(req)
        else:
            obj = self.body
        return Response(self.status, _json_bytes(obj), self.headers, self.content_type)


class Status(Handler):
    """An arbitrary status with a small JSON body ({"error": "<reason>"} for >= 400, else
    {"ok": true}) unless body is given (bytes/str sent as is, other values as JSON).
    retry_after adds a Retry-After header (seconds or an HTTP date, as given)."""

    def __init__(self, status, body=None, headers=None, retry_after=None,
                 content_type="application/json"):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = list(headers.items() if isinstance(headers, dict) else (headers or []))
        if retry_after is not None:
            self.headers.append(("Retry-After", str(retry_after)))

    def respond(self, req, server):
        if self.body is None:
            body = _json_bytes({"error": _phrase(self.status)} if self.status >= 400 else {"ok": True})
        elif isinstance(self.body, (bytes, str)):
            body = self.body
        else:
            body = _json_bytes(self.body)
        return Response(self.status, body, self.headers, self.content_type)


class Html(Handler):
    """200 (or status) with an HTML page and Content-Type text/html."""

    DEFAULT = "<!doctype html><html><head><title>Provider</title></head><body><h1>Welcome</h1></body></html>"

    def __init__(self, body=None, status=200, content_type="text/html; charset=utf-8"):
        self.body = self.DEFAULT if body is None else body
        self.status, self.content_type = status, content_type

    def respond(self, req, server):
        return Response(self.status, self.body, None, self.content_type)


class InvalidJson(Handler):
    """200 (or status) with Content-Type application/json and a body that is not JSON."""

    def __init__(self, body=b'{"order": "1", "status": ', status=200):
        self.body, self.status = body, status

    def respond(self, req, server):
        return Response(self.status, self.body, None, "application/json")


class ErrorJson(Json):
    """200 (or status) with {"error": message}."""

    def __init__(self, message="provider error", status=200):
        super().__init__({"error": message}, status)


class Redirect(Handler):
    """302 (or status) with a Location header and an empty body."""

    def __init__(self, location, status=302):
        self.location, self.status = location, status

    def respond(self, req, server):
        return Response(self.status, b"", [("Location", self.location)])


class Raw(Handler):
    """Anything: status, body (bytes/str), content_type, extra headers."""

    def __init__(self, status=200, body=b"", content_type=None, headers=None):
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers

    def respond(self, req, server):
        return Response(self.status, self.body, self.headers, self.content_type)


class Delay(Handler):
    """Waits seconds (without blocking other connections), then answers with then (default
    Json()). The wait ends early when the server stops; the connection is then closed."""

    def __init__(self, seconds, then=None):
        self.seconds = seconds
        self.then = as_behaviour(then) if then is not None else Json()

    def respond(self, req, server):
        if server.stopping.wait(self.seconds):
            return CLOSE
        return self.then(req, server)


class Close(Handler):
    """Closes the connection without sending a response. reset=True sends a TCP RST
    (SO_LINGER 0) instead of an orderly FIN."""

    def __init__(self, reset=False):
        self.reset = reset

    def respond(self, req, server):
        return ("reset", CLOSE) if self.reset else CLOSE


class Sequence(Handler):
    """One behaviour per request, in order; when exhausted, then (default: the last item again).
    Items: a Handler, an int status (Status(n); 200 answers Json()), a (status, headers) tuple,
    or a dict / list (Json of it). Thread-safe."""

    def __init__(self, items, then=None):
        self.items = [as_behaviour(i) for i in items]
        if not self.items:
            raise ValueError("Sequence needs at least one item")
        self.then = as_behaviour(then) if then is not None else self.items[-1]
        self._lock = threading.Lock()
        self._i = 0

    def respond(self, req, server):
        with self._lock:
            i = self._i
            self._i += 1
        b = self.items[i] if i < len(self.items) else self.then
        return b(req, server)


class FromFunction(Handler):
    """fn(request, server) -> Response | CLOSE | a behaviour to run."""

    def __init__(self, fn):
        self.fn = fn

    def respond(self, req, server):
        r = self.fn(req, server)
        if isinstance(r, Handler):
            return r(req, server)
        return r


def as_behaviour(x):
    """Turns the short forms accepted by Sequence/on() into a behaviour."""
    if isinstance(x, Handler):
        return x
    if isinstance(x, bool):
        raise TypeError("not a behaviour: bool")
    if isinstance(x, int):
        return Json() if x == 200 else Status(x)
    if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], int):
        return Status(x[0], headers=x[1])
    if isinstance(x, (dict, list)):
        return Json(x)
    if callable(x):
        return FromFunction(x)
    raise TypeError(f"not a behaviour: {x!r}")


# --------------------------------------------------------------------------------------------
# The server


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60  # idle keep-alive connections are dropped after this
    server_version = "smplat-mock/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    def __getattr__(self, name):
        # Any method (GET, POST, PATCH, PURGE, ...) is served by _serve.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _serve(self):
        owner = self.server.owner
        body = self._read_body()
        req = owner._record(self.command, self.path, list(self.headers.items()), body)
        try:
            result = owner._behaviour_for(req)(req, owner)
        except Exception as e:  # noqa: BLE001 - a broken behaviour answers 500 and is reported
            owner.errors.append(e)
            result = Response(500, _json_bytes({"error": f"mock behaviour raised {e!r}"}), None,
                              "application/json")
        if result is CLOSE or (isinstance(result, tuple) and result[1] is CLOSE):
            if isinstance(result, tuple):
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                except OSError:
                    pass
            self.close_connection = True
            return
        self._write(result)

    def _write(self, resp):
        lines = [f"HTTP/1.1 {resp.status} {_phrase(resp.status)}", f"Server: {self.server_version}",
                 "Date: " + self.date_time_string()]
        has_type = False
        for k, v in resp.headers:
            if k.lower() in ("content-length", "connection"):
                continue
            has_type = has_type or k.lower() == "content-type"
            lines.append(f"{k}: {v}")
        if not has_type and resp.body:
            lines.append("Content-Type: application/octet-stream")
        lines.append(f"Content-Length: {len(resp.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = head if self.command == "HEAD" or resp.status in (204, 304) or resp.status < 200 \
            else head + resp.body
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # A client that resets or drops its connection is normal here (wrk, curl timeouts,
        # the binary under test giving up); anything else is printed as usual.
        import sys
        if isinstance(sys.exc_info()[1], (OSError, ValueError)):
            return
        super().handle_error(request, client_address)


class MockHTTPServer:
    """A programmable, recording HTTP server on 127.0.0.1:<free port>.

    start() / stop() (also a context manager); url ("http://127.0.0.1:P"), url_for(path), port;
    on(path, behaviour, method=None); set_default(behaviour); clear_behaviours();
    requests (list copy), requests_for(path=None, method=None), count(path=None, method=None),
    counts() -> {route: n}, last(path=None), wait_for_requests(n, path=None, timeout=5.0),
    clear_requests(); errors (exceptions raised by behaviours: should stay empty).
    """

    def __init__(self, default=None, host="127.0.0.1"):
        self.host = host
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests = []
        self._routes = {}  # (method or None, path) -> behaviour
        self._default = as_behaviour(default) if default is not None else Json()
        self._orders = itertools.count(1)
        self._conns = set()
        self.errors = []
        self.stopping = threading.Event()
        self._httpd = None
        self._thread = None

    # lifecycle
    def start(self):
        self._httpd = _Server((self.host, 0), _RequestHandler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"mock-http-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:  # drop idle keep-alive connections and wake blocked readers
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def url_for(self, path):
        return self.url + (path if path.startswith("/") else "/" + path)

    # behaviours
    def on(self, path, behaviour, method=None):
        """Answers requests to path (exact, or prefix when it ends in '*') with behaviour;
        method restricts the rule to one HTTP method. Returns self."""
        with self._lock:
            self._routes[(method.upper() if method else None, path)] = as_behaviour(behaviour)
        return self

    def set_default(self, behaviour):
        with self._lock:
            self._default = as_behaviour(behaviour)
        return self

    def clear_behaviours(self):
        with self._lock:
            self._routes.clear()
            self._default = Json()

    def next_order(self):
        return next(self._orders)

    def _behaviour_for(self, req):
        with self._lock:
            routes = dict(self._routes)
            default = self._default
        for key in ((req.method, req.route), (None, req.route)):
            if key in routes:
                return routes[key]
        best = None
        for (m, p), b in routes.items():
            if p.endswith("*") and req.route.startswith(p[:-1]) and m in (None, req.method):
                if best is None or len(p) > len(best[0]) or (len(p) == len(best[0]) and m):
                    best = (p, b)
        return best[1] if best else default

    # recording
    def _record(self, method, path, headers, body):
        with self._cond:
            req = RecordedRequest(method, path, headers, body, len(self._requests))
            self._requests.append(req)
            self._cond.notify_all()
        return req

    def _track(self, conn, add):
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def requests_for(self, path=None, method=None):
        return [r for r in self.requests if (path is None or r.route == path)
                and (method is None or r.method == method.upper())]

    def count(self, path=None, method=None):
        return len(self.requests_for(path, method))

    def counts(self):
        out = {}
        for r in self.requests:
            out[r.route] = out.get(r.route, 0) + 1
        return out

    def last(self, path=None):
        rs = self.requests_for(path)
        return rs[-1] if rs else None

    def wait_for_requests(self, n, path=None, timeout=5.0):
        """Blocks until at least n requests (to path, when given) arrived; returns them.
        Raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self._requests if path is None or r.route == path]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} request(s) to {path or 'any path'}, got {len(got)}")
                self._cond.wait(left)

    def clear_requests(self):
        with self._lock:
            self._requests.clear()


class WebhookSink(MockHTTPServer):
    """Records POSTed JSON (Slack-style webhooks and the like); answers 200 {"ok": true} unless
    told otherwise with respond_with([...]) (e.g. [Status(429, retry_after=1), 200]).

    received (all requests), json_bodies() (parsed bodies of POSTs, None for non-JSON),
    wait_for(n, timeout=5.0) -> requests.
    """

    def __init__(self):
        super().__init__(default=Json({"ok": True}))

    def respond_with(self, items, then=None, path=None):
        """Answers the next requests (to path, or any path) with items in order, then with then
        (default: the last item again)."""
        seq = Sequence(items, then=then)
        if path is None:
            self.set_default(seq)
        else:
            self.on(path, seq)
        return self

    @property
    def received(self):
        return self.requests

    def json_bodies(self):
        out = []
        for r in self.requests:
            if r.method != "POST":
                continue
            try:
                out.append(r.json())
            except ValueError:
                out.append(None)
        return out

    def wait_for(self, n, timeout=5.0):
        return self.wait_for_requests(n, timeout=timeout)
