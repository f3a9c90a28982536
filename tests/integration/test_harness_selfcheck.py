"""The harness checks itself: fixtures work without any of our binaries."""

import base64
import http.client
import json
import smtplib
import socket
import threading
import time
import urllib.request
from email.message import EmailMessage

import pytest

from harness import (Close, Delay, ErrorJson, Html, InvalidJson, Json, Redirect, Sequence, Status,
                     db_exec, db_query)


def request(url, method="GET", body=None, headers=None, timeout=10):
    """(status, headers dict lowercased, body bytes) without following redirects."""
    from urllib.parse import urlsplit
    u = urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request(method, u.path + (("?" + u.query) if u.query else ""), body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


# --- databases ------------------------------------------------------------------------------


def test_postgres_new_database_is_empty_and_usable(postgres):
    a, b = postgres.new_database(), postgres.new_database()
    assert a != b and a.startswith(f"postgresql://postgres@127.0.0.1:{postgres.port}/")
    db_exec(a, "CREATE TABLE t (id TEXT PRIMARY KEY, payload JSONB, at TIMESTAMPTZ, n NUMERIC)")
    db_exec(a, "INSERT INTO t VALUES (?, ?, ?, ?)", ("x'1", {"k": [1, 2]}, "2025-01-01T00:00:00+00:00", 1.5))
    rows = db_query(a, "SELECT id, payload, at, n FROM t WHERE id = ?", ("x'1",))
    assert rows == [{"id": "x'1", "payload": {"k": [1, 2]}, "at": "2025-01-01T00:00:00+00:00", "n": 1.5}]
    assert db_query(b, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'") == [{"n": 0}]


def test_db_helpers_work_on_both_backends(db):
    db_exec(db, "CREATE TABLE t (id TEXT PRIMARY KEY, payload TEXT, created_at TEXT)")
    db_exec(db, "INSERT INTO t (id, payload, created_at) VALUES (?, ?, ?)",
            ("00000000-0000-0000-0000-000000000001", {"a": "it's"}, "2025-01-01T00:00:00+00:00"))
    rows = db_query(db, "SELECT id, payload, created_at FROM t")
    assert rows == [{"id": "00000000-0000-0000-0000-000000000001", "payload": {"a": "it's"},
                     "created_at": "2025-01-01T00:00:00+00:00"}]
    assert db_query(db, "SELECT id FROM t WHERE id = ?", ("nope",)) == []


# --- redis ----------------------------------------------------------------------------------


def test_redis_ping_and_restart(redis_server):
    import redis
    r = redis.Redis.from_url(redis_server.url, decode_responses=True)
    assert r.ping()
    r.set("k", "v")
    port = redis_server.port
    redis_server.restart()
    assert redis_server.port == port
    r2 = redis.Redis.from_url(redis_server.url, decode_responses=True)
    assert r2.ping() and r2.get("k") is None  # no persistence: a restart empties it


# --- mock provider --------------------------------------------------------------------------


def test_mock_provider_default_json_and_recording(mock_provider):
    st, h, body = request(mock_provider.url_for("/orders?x=1"), "POST", b'{"q": 1}',
                          {"Content-Type": "application/json", "X-Key": "abc"})
    assert st == 200 and h["content-type"] == "application/json"
    assert json.loads(body) == {"order": "1", "status": "ok"}
    st, _, body = request(mock_provider.url_for("/orders"), "POST", b"{}")
    assert json.loads(body)["order"] == "2"
    r = mock_provider.requests[0]
    assert (r.method, r.path, r.route, r.query) == ("POST", "/orders?x=1", "/orders", {"x": ["1"]})
    assert r.header("x-key") == "abc" and r.json() == {"q": 1} and r.time > 0
    assert mock_provider.count("/orders") == 2 and mock_provider.counts() == {"/orders": 2}


def test_mock_provider_behaviours(mock_provider):
    m = mock_provider
    m.on("/json", Json({"id": 7}))
    m.on("/500", Status(500))
    m.on("/404", Status(404))
    m.on("/429", Status(429, retry_after=3))
    m.on("/html", Html())
    m.on("/bad", InvalidJson())
    m.on("/err", ErrorJson("out of stock"))
    m.on("/moved", Redirect("/elsewhere"))
    m.on("/prefix/*", Json({"prefix": True}))
    m.on("/only-get", Status(405), method="POST")

    assert request(m.url_for("/json"))[2] == b'{"id": 7}'
    st, _, body = request(m.url_for("/500"))
    assert st == 500 and json.loads(body) == {"error": "Internal Server Error"}
    assert request(m.url_for("/404"))[0] == 404
    st, h, _ = request(m.url_for("/429"))
    assert st == 429 and h["retry-after"] == "3"
    st, h, body = request(m.url_for("/html"))
    assert st == 200 and h["content-type"].startswith("text/html") and body.startswith(b"<!doctype html>")
    st, h, body = request(m.url_for("/bad"))
    assert st == 200 and h["content-type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(body)
    st, _, body = request(m.url_for("/err"))
    assert st == 200 and json.loads(body) == {"error": "out of stock"}
    st, h, body = request(m.url_for("/moved"))
    assert st == 302 and h["location"] == "/elsewhere" and body == b""
    assert json.loads(request(m.url_for("/prefix/a/b"))[2]) == {"prefix": True}
    assert request(m.url_for("/only-get"), "POST")[0] == 405
    assert request(m.url_for("/only-get"), "GET")[0] == 200
    assert m.errors == []


def test_mock_provider_close_without_response(mock_provider):
    mock_provider.on("/drop", Close())
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        request(mock_provider.url_for("/drop"))
    mock_provider.on("/reset", Close(reset=True))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        request(mock_provider.url_for("/reset"))
    assert mock_provider.count("/drop") == 1 and mock_provider.count("/reset") == 1


def test_mock_provider_slow_path_does_not_block_others(mock_provider):
    mock_provider.on("/slow", Delay(3))
    errors = []

    def slow():
        try:
            request(mock_provider.url_for("/slow"), timeout=0.5)
        except (socket.timeout, TimeoutError) as e:
            errors.append(e)

    t = threading.Thread(target=slow)
    t.start()
    mock_provider.wait_for_requests(1, "/slow", timeout=5)
    t0 = time.monotonic()
    st, _, _ = request(mock_provider.url_for("/fast"))
    assert st == 200 and time.monotonic() - t0 < 0.5
    t.join(5)
    assert len(errors) == 1  # the client gave up before the slow answer


def test_mock_provider_sequence_and_keepalive(mock_provider):
    mock_provider.on("/flaky", Sequence([500, Status(429, retry_after=1), {"ok": 1}]))
    assert [request(mock_provider.url_for("/flaky"))[0] for _ in range(4)] == [500, 429, 200, 200]
    c = http.client.HTTPConnection("127.0.0.1", mock_provider.port, timeout=10)
    for _ in range(1000):
        c.request("POST", "/bulk", body=b'{"n": 1}', headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 200
    c.close()
    assert mock_provider.count("/bulk") == 1000  # one keep-alive connection served them all


# --- sinks ----------------------------------------------------------------------------------


def test_smtp_sink_receives_a_message(smtp_sink):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ops@example.test", "oncall@example.test", "Alert digest"
    msg.set_content("line one\n.leading dot\n")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as s:
        s.ehlo("tester")
        s.login("user", "secret")
        s.send_message(msg)
    (got,) = smtp_sink.wait_for(1)
    assert got.mail_from == "ops@example.test" and got.rcpt_to == ["oncall@example.test"]
    assert got.subject == "Alert digest" and got.auth == ("user", "secret")
    assert ".leading dot" in got.body_text()


def test_smtp_sink_auth_login(smtp_sink):
    smtp_sink.require_auth = True
    with socket.create_connection((smtp_sink.host, smtp_sink.port), timeout=5) as s:
        f = s.makefile("rwb")

        def cmd(line):
            if line is not None:
                f.write(line.encode() + b"\r\n")
                f.flush()
            out = []
            while True:
                l = f.readline().decode()
                out.append(l)
                if l[3:4] != "-":
                    return "".join(out)

        assert cmd(None).startswith("220")
        assert "AUTH PLAIN LOGIN" in cmd("EHLO x")
        assert cmd("MAIL FROM:<a@b>").startswith("530")
        assert cmd("AUTH LOGIN").startswith("334")
        assert cmd(base64.b64encode(b"u").decode()).startswith("334")
        assert cmd(base64.b64encode(b"p").decode()).startswith("235")
        assert cmd("QUIT").startswith("221")
    assert smtp_sink.auths == [("u", "p")]


def test_webhook_sink_status_sequence(webhook_sink):
    webhook_sink.respond_with([Status(429, retry_after=1), 200])
    codes = []
    for i in range(3):
        req = urllib.request.Request(webhook_sink.url_for("/hook"), data=json.dumps({"n": i}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                codes.append(r.status)
        except urllib.error.HTTPError as e:
            codes.append((e.code, e.headers["Retry-After"]))
    assert codes == [(429, "1"), 200, 200]
    assert webhook_sink.json_bodies() == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert len(webhook_sink.wait_for(3)) == 3


def test_mock_provider_callable_behaviour(mock_provider):
    mock_provider.on("/echo", lambda req, srv: Json({"got": req.json(), "q": req.query.get("a")}))
    st, _, body = request(mock_provider.url_for("/echo?a=1"), "POST", b'{"x": true}')
    assert st == 200 and json.loads(body) == {"got": {"x": True}, "q": ["1"]}
    assert mock_provider.errors == []


# --- running programs -----------------------------------------------------------------------


def test_run_cli_clean_env_and_json(run_cli, tmp_path):
    (tmp_path / ".env").write_text("")  # cwd is the test's own directory
    r = run_cli(["/bin/sh", "-c", 'printf \'{"cwd": "%s", "home": "%s", "db": "%s", "x": "%s", '
                 '"user": "%s"}\' "$PWD" "$HOME" "$DATABASE_URL" "$X" "${SMPLAT_UNSET-unset}"; '
                 'echo oops >&2; exit 3'],
                env={"X": 1, "SMPLAT_UNSET": None}, db_url="sqlite:///x.db", timeout=10)
    rc, out, err, data = r
    assert rc == 3 and err == "oops\n"
    assert data == {"cwd": str(tmp_path), "home": str(tmp_path), "db": "sqlite:///x.db", "x": "1",
                    "user": "unset"}
    with pytest.raises(AssertionError, match="expected exit 0"):
        r.check(0)
    with pytest.raises(AssertionError, match="timed out"):
        run_cli(["/bin/sh", "-c", "sleep 30"], timeout=0.3)
    with pytest.raises(AssertionError, match="sanitizer report"):
        run_cli(["/bin/sh", "-c", "echo 'x.c:1:2: runtime error: signed integer overflow' >&2"])


def test_service_starts_waits_and_stops(service):
    from harness import free_port
    port = free_port()
    svc = service(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                  port=port, ready_path="/", timeout=15)
    assert svc.alive() and request(svc.url + "/")[0] == 200
    svc.stop()
    assert not svc.alive()
