"""How `smplat serve` serves the admin pages (docs/ADMIN_UI.md, "Embedding and serving"):
content types, the security headers, ETag revalidation, the per-page shell and bundle, and that the pages (which hold no data) are not behind the API token while the
API is. Plain HTTP, no browser."""
import re
import urllib.error
import urllib.request

import pytest

PAGES = {
    "/admin/orders": "page-orders.js",
    "/admin/fulfillment/providers": "page-providers.js",
    "/admin/fulfillment/providers/some-provider": "page-providers.js",
    "/admin/merchandising": "page-merchandising.js",
    "/admin/reports": "page-reports.js",
}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url, headers=None):
    """(status, headers, body) without following redirects or raising on 4xx."""
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture
def admin_server(sqlite_db, run_cli, service):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    return service(["smplat", "serve"], db_url=sqlite_db, env={"SMPLAT_API_TOKEN": "assets-token"})


def security_headers_ok(headers):
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_admin_root_redirects_to_orders(admin_server):
    status, headers, _ = get(admin_server.url + "/admin")
    assert status == 302
    assert headers["Location"] == "/admin/orders"


def static_imports(base, name, seen):
    """The modules name imports, transitively, read from the served files."""
    _, _, body = get(f"{base}/admin/assets/{name}")
    for dep in re.findall(r"^import\s[^;]*?from\s+'\./([A-Za-z0-9._-]+\.js)'", body.decode(), re.M):
        if dep not in seen:
            seen.add(dep)
            static_imports(base, dep, seen)
    return seen


@pytest.mark.parametrize("path", list(PAGES))
def test_page_shell_loads_its_bundle_and_every_reference_resolves(admin_server, path):
    status, headers, body = get(admin_server.url + path)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    security_headers_ok(headers)
    html = body.decode()
    assert "<!--page-module-->" not in html
    page = PAGES[path]
    bundle = "/admin/assets/bundle-" + page[len("page-"):]
    # One module script, the page's bundle; no inline script or style (the CSP would block them).
    assert re.findall(r'<script type="module" src="([^"]+)"></script>', html) == [bundle]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html
    refs = re.findall(r'(?:href|src)="(/admin/assets/[^"]+)"', html)
    assert "/admin/assets/admin.css" in refs
    for ref in refs:
        s, h, b = get(admin_server.url + ref)
        assert s == 200, ref
        want = "text/css; charset=utf-8" if ref.endswith(".css") else "text/javascript; charset=utf-8"
        assert h["Content-Type"] == want, ref
        assert b, ref
        security_headers_ok(h)
    # The bundle holds the page, every module it and main.js import, and main.js last, and no
    # import statement is left in it.
    text = get(admin_server.url + bundle)[2].decode()
    wanted = static_imports(admin_server.url, page, set()) | static_imports(admin_server.url, "main.js", set())
    held = re.findall(r"^__m\['([A-Za-z0-9._-]+)'\] = ", text, re.M)
    assert set(held) == wanted | {page, "main.js"}, held
    assert held[-1] == "main.js"
    for name in held:  # each module after the modules it imports
        deps = static_imports(admin_server.url, name, set())
        assert all(held.index(d) < held.index(name) for d in deps), name
    assert not re.search(r"^\s*(import\s|export\s)", text, re.M)
    # The modules stay served one by one too (the fallback shell, index.html, loads them so).
    assert get(admin_server.url + "/admin/assets/" + page)[0] == 200


def test_etag_revalidation_answers_304_without_a_body(admin_server):
    url = admin_server.url + "/admin/assets/dom.js"
    status, headers, body = get(url)
    assert status == 200 and body
    etag = headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag)
    status, headers304, body304 = get(url, {"If-None-Match": etag})
    assert status == 304 and body304 == b""
    assert headers304["ETag"] == etag
    # A weak or listed match also counts; another tag does not.
    assert get(url, {"If-None-Match": f'"0000000000000000", W/{etag}'})[0] == 304
    assert get(url, {"If-None-Match": '"0000000000000000"'})[0] == 200
    # Each page has its own shell, so its own validator.
    tags = {get(admin_server.url + p)[1]["ETag"] for p in ("/admin/orders", "/admin/reports")}
    assert len(tags) == 2


def test_unknown_asset_is_404_with_detail(admin_server):
    for name in ("nope.js", "index.htm", "shell-nope.html"):
        status, headers, body = get(admin_server.url + "/admin/assets/" + name)
        assert status == 404, name
        assert b'"detail"' in body
        security_headers_ok(headers)
    # An encoded slash is not a way out of the asset table.
    status, _, body = get(admin_server.url + "/admin/assets/..%2F..%2Fmeson.build")
    assert status == 404 and b"project(" not in body


def test_pages_are_open_while_the_api_needs_the_token(admin_server):
    assert get(admin_server.url + "/admin/orders")[0] == 200
    assert get(admin_server.url + "/admin/assets/api.js")[0] == 200
    assert get(admin_server.url + "/api/v1/fulfillment/providers/automation/status")[0] == 401
    status, _, _ = get(admin_server.url + "/api/v1/fulfillment/providers/automation/status",
                       {"X-API-Key": "assets-token"})
    assert status == 200
