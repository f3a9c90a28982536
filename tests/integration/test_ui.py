"""Browser tests of the admin pages: starts `smplat serve` on a seeded SQLite database (and a
second one with SMPLAT_API_TOKEN set on an empty database, which also shows the orders page's
empty hero), then runs tests/ui/admin-ui.test.mjs, which drives the
Debian Chromium headless through playwright-core and writes screenshots of every page under
build/screenshots/. The node script's output is shown when it fails.

Needs /usr/bin/chromium (Debian `chromium`, installed by scripts/deps.sh) and node/npm; the
npm package is installed into tests/ui/node_modules (gitignored) from the lock file."""

import json
import os
import pathlib
import shutil
import subprocess
import uuid

import pytest

from harness import Json, db_exec
from replay_seed import q

REPO = pathlib.Path(__file__).resolve().parents[2]
UI_DIR = REPO / "tests" / "ui"
CHROMIUM = os.environ.get("SMPLAT_CHROMIUM", "/usr/bin/chromium")
SECRET = "sk-live-ui-secret-4242"
BULK_ORDERS = 60


def _npm_install():
    """Installs playwright-core from the lock file once (npm ci; npm install when ci fails,
    e.g. an older npm). Returns an error text or None."""
    marker = UI_DIR / "node_modules" / "playwright-core" / "package.json"
    if marker.exists():
        return None
    npm = shutil.which("npm")
    if not npm:
        return "npm not found"
    for cmd in ([npm, "ci", "--no-audit", "--no-fund"], [npm, "install", "--no-audit", "--no-fund"]):
        r = subprocess.run(cmd, cwd=UI_DIR, capture_output=True, text=True, timeout=300)
        if r.returncode == 0 and marker.exists():
            return None
    return f"npm failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"


# The cost insights of alpha's service (spec-api-ui §9.9): priced per follower with a minimum,
# a cadence and margin guardrails.
SERVICE_META = {
    "costModel": {"kind": "per_unit", "unitAmount": 0.01, "unit": "follower", "minimumUnits": 100,
                  "currency": "USD"},
    "cadence": {"batchSize": 500, "defaultDailyQuota": 2000, "fulfillmentWindowHours": 48,
                "notes": "Drip over two days"},
    "guardrails": {"minimumMarginPercent": 20, "warningMarginPercent": 35, "minimumMarginAbsolute": 1,
                   "currency": "USD"},
    "payloadTemplates": [{"operation": "order", "method": "POST", "path": "/add"},
                         {"operation": "refill", "method": "POST", "path": "/refill"}],
    "defaultInputs": {"quantity": 1000},
}


def _seed(url, provider_url):
    """Two providers, each with one order whose provider order has scheduled/executed
    replays; alpha has guardrails (a margin warning), endpoints on the mock provider and an
    API key that must never appear on a page; beta's placement outcome is unknown. Then
    BULK_ORDERS older completed orders without provider orders, so that the order queue (50 a
    page) has a second page."""
    alpha_meta = {
        "automation": {
            "apiKey": SECRET,
            "endpoints": {
                "order": {"method": "POST", "url": provider_url + "/order",
                          "headers": {"X-Api-Key": "{{apiKey}}"},
                          "payload": {"service": "{{serviceId}}", "amount": "{{requestedAmount}}"},
                          "response": {"providerOrderIdPath": "order"}, "timeoutSeconds": 3},
                "refill": {"method": "POST", "url": provider_url + "/refill",
                           "payload": {"order": "{{providerOrderId}}"}, "timeoutSeconds": 3},
                "balance": {"method": "GET", "url": provider_url + "/balance", "timeoutSeconds": 3},
            },
        }
    }
    seed = {"providers": {}, "orders": {}}
    sql = []
    for pid, name, meta, preset in (("ui-alpha", "Alpha Panel", alpha_meta, "preset-growth"),
                                    ("ui-beta", "Beta Network", {}, "preset-other")):
        sql.append("INSERT INTO fulfillment_providers (id, name, description, metadata_json, status, "
                   f"health_status, allowed_regions) VALUES ({q(pid)}, {q(name)}, 'seeded', {q(meta)}, "
                   f"'active', 'healthy', {q(['eu'])});")
        sql.append("INSERT INTO fulfillment_services (id, provider_id, name, action, category, "
                   f"default_currency, status, health_status, metadata_json) VALUES ({q(pid + '-svc')}, "
                   f"{q(pid)}, 'Followers', 'followers', 'followers', 'EUR', 'active', 'healthy', "
                   f"{q(SERVICE_META if pid == 'ui-alpha' else {})});")
        order_id, item_id, po_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        payload = {
            "orderId": order_id, "providerOrderId": "R-" + pid,
            "serviceRules": [{"id": "rule-eu", "label": "EU audience", "priority": 1}],
            "scheduledReplays": [{"id": str(uuid.uuid4()), "requestedAmount": 10.0, "currency": "EUR",
                                  "scheduledFor": "2099-01-01T00:00:00+00:00", "status": "scheduled"}],
            "replays": [],
            "guardrails": {"minimumMarginPercent": 10, "warningMarginPercent": 40},
            "providerCostAmount": 8.0,
        }
        if pid == "ui-beta":  # a placement whose placer stopped mid-request
            payload["providerResponse"] = {"error": "outcome unknown: the process placing this "
                                                    "order stopped; check with the provider"}
        sql.append("INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, total) "
                   f"VALUES ({q(order_id)}, {q('UI-' + pid)}, 'processing', 'checkout', 'EUR', 12, 0, 12);")
        sql.append("INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, total_price, "
                   f"selected_options) VALUES ({q(item_id)}, {q(order_id)}, 'Growth', 1, 12, 12, "
                   f"{q({'presetId': preset, 'presetLabel': preset.title()})});")
        sql.append("INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, "
                   "provider_name, service_id, service_action, amount, currency, payload) VALUES ("
                   f"{q(po_id)}, {q(order_id)}, {q(item_id)}, {q(pid)}, {q(name)}, {q(pid + '-svc')}, "
                   f"'followers', 12.0, 'EUR', {q(payload)});")
        seed["providers"][pid] = {"providerOrderId": po_id, "orderId": order_id, "preset": preset}
    # Older completed orders without provider orders, enough for the queue to need "Load more".
    bulk = []
    for i in range(BULK_ORDERS):
        order_id = str(uuid.uuid4())
        bulk.append(order_id)
        created = f"2020-01-01T{i // 60:02d}:{i % 60:02d}:00+00:00"
        sql.append("INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, total, "
                   f"created_at, updated_at) VALUES ({q(order_id)}, {q(f'UI-OLD-{i:03d}')}, 'completed', "
                   f"'checkout', 'USD', 5, 0, 5, {q(created)}, {q(created)});")
    seed["bulkOrders"] = bulk
    sql += _followups_sql()
    seed["followups"] = {"ui-alpha": 7, "ui-beta": 0}
    db_exec(url, "\n".join(sql))
    return seed


def _followups_sql():
    """Seven guardrail follow-ups of ui-alpha (newest: a manual escalation with a platform
    context and a conversion cursor; oldest: the alert worker's pause) and its status row:
    paused by hand (so the alert worker of "Run now" leaves it paused). ui-beta has none."""
    actions = ["escalate_to_ops", "note_margin", "resume", "pause", "escalate_to_ops", "checked_panel", "pause"]
    sql = []
    last_id = None
    for i, action in enumerate(actions):
        fid = str(uuid.uuid4())
        last_id = last_id or fid
        created = f"2026-11-2{7 - i}T10:0{i}:00+00:00"
        ctx = {"id": "ig", "label": "Instagram", "handle": "@alpha", "platformType": "instagram"} if i == 0 else None
        sql.append("INSERT INTO provider_guardrail_followup (id, provider_id, provider_name, action, notes, "
                   "platform_context, conversion_cursor, created_at) VALUES ("
                   f"{q(fid)}, 'ui-alpha', 'Alpha Panel', {q(action)}, {q(f'Seeded follow-up {i + 1}')}, "
                   f"{q(ctx) if ctx else 'NULL'}, {q('2026-11-01T00:00:00Z') if i == 0 else 'NULL'}, {q(created)});")
    sql.append("INSERT INTO provider_guardrail_status (provider_id, provider_name, last_action, is_paused, "
               f"last_source, updated_at, last_follow_up_id) VALUES ('ui-alpha', 'Alpha Panel', 'pause', 1, "
               f"'manual', '2026-11-27T10:00:00+00:00', {q(last_id)});")
    return sql


@pytest.mark.slow
def test_admin_pages_in_chromium(sqlite_db, run_cli, service, mock_provider, tmp_path):
    if not os.access(CHROMIUM, os.X_OK) or not shutil.which("node"):
        pytest.fail(f"{CHROMIUM} or node missing: run scripts/deps.sh", pytrace=False)
    err = _npm_install()
    if err:
        pytest.fail(err, pytrace=False)
    mock_provider.on("/order", Json({"order": "R-77", "status": "ok"}))
    mock_provider.on("/refill", Json({"refill": "F-1", "status": "ok"}))
    mock_provider.on("/balance", Json({"balance": "123.45", "currency": "usd"}))

    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    seed = _seed(sqlite_db, mock_provider.url)
    env = {"PROVIDER_ALLOW_PRIVATE_NETWORKS": "true"}
    open_svc = service(["smplat", "serve"], db_url=sqlite_db, env=env)

    token_db = "sqlite:///" + str(tmp_path / "token.db")
    run_cli(["smplat", "migrate"], db_url=token_db).check(0)
    token = "ui-token-" + uuid.uuid4().hex[:8]
    token_svc = service(["smplat", "serve"], db_url=token_db, env={**env, "SMPLAT_API_TOKEN": token})

    shots = REPO / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "UI_BASE_URL": open_svc.url,
        "UI_TOKEN_URL": token_svc.url,
        "UI_TOKEN": token,
        "UI_SECRET": SECRET,
        "UI_SEED": json.dumps(seed),
        "UI_SHOTS": str(shots),
        "UI_CHROMIUM": CHROMIUM,
        "UI_TMP": str(tmp_path),
    }
    r = subprocess.run(["node", str(UI_DIR / "admin-ui.test.mjs")], cwd=UI_DIR, env=child_env,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.fail(f"browser tests failed (exit {r.returncode}):\n{r.stdout[-12000:]}\n{r.stderr[-6000:]}"
                    f"\n--- server log ---\n{open_svc.output()[-3000:]}", pytrace=False)
    assert "0 failed" in r.stdout, r.stdout
    # The API saw what the buttons did.
    assert mock_provider.count("/order") >= 1
    assert mock_provider.count("/refill") >= 1
