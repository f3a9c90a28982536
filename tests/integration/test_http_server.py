"""The HTTP server itself: limits, slow clients, keep-alive, errors, metrics, SIGTERM."""

import http.client
import json
import socket
import threading
import time

from harness import free_port


def request(svc, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), data


def test_unknown_paths_and_methods(service, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    assert request(svc, "GET", "/nope")[0] == 404
    status, ctype, body = request(svc, "GET", "/api/v1/fulfillment/providers/a/b/c/d")
    assert status == 404 and json.loads(body) == {"detail": "Not Found"}
    assert ctype.startswith("application/json")
    status, _, body = request(svc, "POST", "/api/v1/fulfillment/providers/automation/status")
    assert status == 405 and json.loads(body) == {"detail": "Method Not Allowed"}
    status, _, body = request(svc, "GET", "/api/v1/fulfillment/providers/automation/replay/run")
    assert status == 405
    # trailing slash reaches the same route
    status, _, body = request(svc, "GET", "/api/v1/fulfillment/providers/automation/status/")
    assert status == 200 and set(json.loads(body)) == {"replay", "alerts"}


def test_body_over_one_mib_is_refused(service, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    big = b'{"x": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    status, _, body = request(svc, "POST", "/api/v1/fulfillment/providers/automation/replay/run",
                              body=big, headers={"Content-Type": "application/json"})
    assert status == 413 and "1 MiB" in json.loads(body)["detail"]
    # the server is fine afterwards
    assert request(svc, "GET", "/healthz")[0] == 200


def test_request_headers_up_to_8_kib_pass_and_oversized_ones_get_431(service, sqlite_db):
    """Each connection has a 16 KiB memory pool (request line, headers, read buffer): 8 KiB of
    headers are served, a 64 KiB header is refused with 431, a 1 MiB body still streams
    through it, and the connection pool recovers."""
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    path = "/api/v1/fulfillment/providers/automation/status"
    status, _, body = request(svc, "GET", path, headers={"X-Trace": "t" * 8192})
    assert status == 200 and set(json.loads(body)) == {"replay", "alerts"}
    status, _, _ = request(svc, "GET", path, headers={"X-Trace": "t" * 65536})
    assert status == 431
    body = json.dumps({"id": "big", "name": "Big", "metadata": {"pad": "p" * (1000 * 1000)}})
    status, _, _ = request(svc, "POST", "/api/v1/fulfillment/providers/", body=body,
                           headers={"Content-Type": "application/json"})
    assert status == 201
    assert request(svc, "GET", "/healthz")[0] == 200


def test_slow_client_does_not_block_others(service, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    stop = threading.Event()
    socks = []

    def trickle():
        s = socket.create_connection(("127.0.0.1", svc.port))
        socks.append(s)
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        while not stop.is_set():
            try:
                s.sendall(b"X")
            except OSError:
                return
            time.sleep(0.5)

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    # more slow clients than pool threads, and normal requests are still answered at once
    for _ in range(20):
        t0 = time.monotonic()
        assert request(svc, "GET", "/healthz")[0] == 200
        assert time.monotonic() - t0 < 2
    stop.set()
    for s in socks:
        s.close()


def test_keep_alive_serves_many_requests_on_one_connection(service, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
    for _ in range(50):
        c.request("GET", "/healthz")
        r = c.getresponse()
        assert r.status == 200 and json.loads(r.read()) == {"status": "ok"}
    c.close()


def test_metrics_count_requests_by_route_and_status(service, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    request(svc, "GET", "/api/v1/fulfillment/providers/automation/status")
    request(svc, "GET", "/api/v1/fulfillment/providers/automation/status/history?limit=0")
    status, ctype, body = request(svc, "GET", "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    text = body.decode()
    assert 'smplat_http_requests_total{route="automation_status",status="200"} 1' in text
    assert 'smplat_http_requests_total{route="automation_history",status="422"} 1' in text


def test_sigterm_exits_zero(service, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    assert request(svc, "GET", "/healthz")[0] == 200
    assert svc.stop() == 0


def test_port_in_use_is_a_clear_error(service, run_cli, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    res = run_cli(["smplat", "serve", "--host", "127.0.0.1", "--port", str(svc.port)], db_url=sqlite_db)
    assert res.returncode == 1 and "cannot listen" in res.stderr


def test_history_reflects_runs_recorded_by_other_processes(service, run_cli, migrated_db):
    svc = service(["smplat", "serve"], db_url=migrated_db)
    path = "/api/v1/fulfillment/providers/automation/status/history?limit=5"
    status, _, body = request(svc, "GET", path)
    assert status == 200 and json.loads(body)["replay"] == []
    assert json.loads(request(svc, "GET", path)[2])["replay"] == []  # served again, same answer
    for expected in (1, 2):
        run_cli(["provider-replay", "scheduled"], db_url=migrated_db).check(0)
        runs = json.loads(request(svc, "GET", path)[2])["replay"]
        assert len(runs) == expected


def test_status_store_outage_degrades_to_run_history(service, run_cli, migrated_db):
    """DECISIONS 15: with Redis unreachable, status answers from the run history and the run
    endpoint still returns its summary."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    run_cli(["provider-replay", "scheduled"], db_url=migrated_db).check(0)  # history row
    svc = service(["smplat", "serve"], db_url=migrated_db, env={"REDIS_URL": dead})
    status, _, body = request(svc, "GET", "/api/v1/fulfillment/providers/automation/status")
    assert status == 200
    replay = json.loads(body)["replay"]
    assert replay and replay["summary"]["processed"] == 0 and "scheduledBacklog" in replay["summary"]
    status, _, body = request(svc, "POST", "/api/v1/fulfillment/providers/automation/replay/run")
    assert status == 200 and json.loads(body)["summary"]["processed"] == 0
