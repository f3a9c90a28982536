"""smplat export-runs against a running `smplat serve` (spec-api-ui §7, DECISIONS 17).

The expected bytes are computed here the way the original Python exporter produced them:
the history as the API returned it, flattened per §7.2, then json.dumps(indent=2) or
csv.writer (excel dialect, CRLF). The C exporter must write the same bytes."""

import csv
import io
import json
import re
import time
import urllib.request
import uuid

import pytest

from harness import db_exec, free_port

TAG = "[export-provider-automation-runs]"
HISTORY = "/api/v1/fulfillment/providers/automation/status/history"
HEADER = ["category", "ran_at", "scheduled_backlog", "next_scheduled_at", "processed",
          "succeeded", "failed", "alerts_sent", "alerts_digest", "load_alerts_digest",
          "summary_json"]

# A run history with the awkward cases: floats, booleans, non-ASCII, commas, quotes and
# newlines in cells, containers in scalar columns, digests, metadata-only digests.
RUNS = [
    # (run_type, summary, metadata, backlog_total, next_scheduled_at, alerts_sent, created_at)
    ("replay", {"processed": 5, "succeeded": 4, "failed": 1}, None, 3,
     "2025-01-10T01:30:00+00:00", None, "2025-01-10T01:00:00+00:00"),
    ("replay", {"processed": True, "succeeded": 2.0, "failed": 1e-05, "ratio": 1e16,
                "note": "café, \"quoted\"\nnext line", "nextScheduledAt": "a,b\"c\r\nd",
                "scheduledBacklog": {"x": [1, None, "it's", False, 0.5]}, "deferred": 0},
     None, None, None, None, "2025-01-10T02:00:00+00:00"),
    ("replay", {}, None, None, None, None, "2025-01-09T23:59:59+00:00"),
    ("alert", {"alertsSent": 2, "alertsDigest": [
        {"providerId": "p1", "providerName": "Prövider ☃", "reasons": ["2 guardrail fails"],
         "guardrailFailures": 2, "replayFailures": 0, "replayTotal": 0}],
        "loadAlertsDigest": []}, None, None, None, 2, "2025-01-10T03:00:00+00:00"),
    ("alert", {}, {"alertsDigest": [{"providerId": "p2", "reasons": []}],
                   "loadAlertsDigest": [{"presetId": "pr-1", "shortShare": 0.75}],
                   "autoPausedProviders": [{"providerId": "p2", "action": "pause"}]},
     None, None, 0, "2025-01-10T03:30:00+00:00"),
]


def seed_runs(db_url, runs=RUNS):
    for run_type, summary, metadata, backlog, next_at, sent, created in runs:
        db_exec(db_url,
                "INSERT INTO provider_automation_runs (id, run_type, status, summary, metadata_json, "
                "backlog_total, next_scheduled_at, alerts_sent, created_at) "
                "VALUES (?, ?, 'success', ?, ?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), run_type, json.dumps(summary),
                 json.dumps(metadata) if metadata is not None else None, backlog, next_at, sent,
                 created))


def fetch_history(base, limit=50, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(f"{base}{HISTORY}?limit={limit}", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


# ---- the original exporter's output, computed from the API's answer (§7.2, 7.4, 7.5) ----

def reference_rows(history):
    rows = []
    for category, entries in history.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            summary = entry.get("summary") or {}
            if not isinstance(summary, dict):
                summary = {}
            rows.append({
                "category": category,
                "ran_at": entry.get("ranAt"),
                "scheduled_backlog": summary.get("scheduledBacklog"),
                "next_scheduled_at": summary.get("nextScheduledAt"),
                "processed": summary.get("processed"),
                "succeeded": summary.get("succeeded"),
                "failed": summary.get("failed"),
                "alerts_sent": summary.get("alertsSent"),
                "alerts_digest": summary.get("alertsDigest"),
                "load_alerts_digest": summary.get("loadAlertsDigest"),
                "summary": summary,
            })
    return rows


def reference_json(rows):
    return json.dumps({"runs": rows}, indent=2)


def reference_csv(rows):
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r["category"], r["ran_at"], r["scheduled_backlog"], r["next_scheduled_at"],
                    r["processed"], r["succeeded"], r["failed"], r["alerts_sent"],
                    json.dumps(r["alerts_digest"]), json.dumps(r["load_alerts_digest"]),
                    json.dumps(r["summary"])])
    return buf.getvalue()


@pytest.fixture
def served(service, run_cli, sqlite_db):
    """A migrated SQLite database and a server on it: (db_url, ServiceProcess)."""

    def start(env=None, runs=RUNS):
        run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
        if runs:
            seed_runs(sqlite_db, runs)
        return sqlite_db, service(["smplat", "serve"], db_url=sqlite_db, env=env)

    return start


def export(run_cli, base, *args, env=None):
    e = {"SMPLAT_API_BASE_URL": base}
    e.update(env or {})
    return run_cli(["smplat", "export-runs", *args], env=e)


# ---------------------------------------------------------------------------------------------


def test_json_and_csv_are_byte_exact(run_cli, service, migrated_db, tmp_path):
    seed_runs(migrated_db)
    svc = service(["smplat", "serve"], db_url=migrated_db)
    history = fetch_history(svc.url)
    rows = reference_rows(history)
    assert [r["category"] for r in rows] == ["replay"] * 3 + ["alerts"] * 2

    r = export(run_cli, svc.url)
    r.check(0)
    assert r.stdout == reference_json(rows) + "\n"
    assert r.stderr == ""

    r = export(run_cli, svc.url, "--format", "csv")
    r.check(0)
    assert r.stdout == reference_csv(rows)
    # The example row of spec-api-ui §7.5, for the run seeded first.
    assert ("replay,2025-01-10T01:00:00Z,3,2025-01-10T01:30:00+00:00,5,4,1,,null,null,"
            '"{""processed"": 5, ""succeeded"": 4, ""failed"": 1, ""scheduledBacklog"": 3, '
            '""nextScheduledAt"": ""2025-01-10T01:30:00+00:00""}"\r\n') in r.stdout

    # Files: the same bytes, no trailing newline for JSON.
    r = export(run_cli, svc.url, "--output", "out.json")
    r.check(0)
    assert r.stdout == f"{TAG} ✅ wrote 5 rows to out.json\n"
    assert (tmp_path / "out.json").read_bytes() == reference_json(rows).encode()
    r = export(run_cli, svc.url, "--format=csv", "--output", str(tmp_path / "out.csv"))
    r.check(0)
    assert (tmp_path / "out.csv").read_bytes() == reference_csv(rows).encode()


def test_auth_token_is_sent(served, run_cli):
    _, svc = served(env={"SMPLAT_API_TOKEN": "s3cret"})
    rows = reference_rows(fetch_history(svc.url, token="s3cret"))
    r = export(run_cli, svc.url, "--auth-token", "s3cret")
    r.check(0)
    assert r.stdout == reference_json(rows) + "\n"
    r = export(run_cli, svc.url, env={"SMPLAT_AUTOMATION_AUTH_TOKEN": "s3cret"})
    r.check(0)
    # An empty flag falls back to the environment, as `args.auth_token or env` did.
    export(run_cli, svc.url, "--auth-token", "", env={"SMPLAT_AUTOMATION_AUTH_TOKEN": "s3cret"}).check(0)
    url = f"{svc.url}{HISTORY}?limit=50"
    for args, env in ((["--auth-token", "wrong"], None), ([], None),
                      ([], {"SMPLAT_AUTOMATION_AUTH_TOKEN": ""})):
        r = export(run_cli, svc.url, *args, env=env)
        r.check(1)
        assert r.stderr == f"{TAG} ❌ HTTP 401 while calling {url}\n"
        assert r.stdout == ""


def test_export_dir_gets_a_timestamped_file(served, run_cli, tmp_path):
    _, svc = served()
    rows = reference_rows(fetch_history(svc.url))
    for fmt in ("json", "csv"):
        export_dir = tmp_path / f"exports-{fmt}" / "nested"
        before = time.gmtime(time.time() - 1)
        r = export(run_cli, svc.url, "--format", fmt, env={"SMPLAT_AUTOMATION_EXPORT_DIR": str(export_dir)})
        r.check(0)
        files = list(export_dir.iterdir())
        assert len(files) == 1
        m = re.fullmatch(r"provider_automation_runs_(\d{8}T\d{6}Z)\." + fmt, files[0].name)
        assert m, files[0].name
        stamp = time.strptime(m.group(1), "%Y%m%dT%H%M%SZ")
        assert time.mktime(before) <= time.mktime(stamp) <= time.mktime(time.gmtime(time.time() + 1))
        assert r.stdout == f"{TAG} ✅ wrote {len(rows)} rows to {files[0]}\n"
        expected = reference_json(rows) if fmt == "json" else reference_csv(rows)
        assert files[0].read_bytes() == expected.encode()
    # --output wins over the export directory.
    r = export(run_cli, svc.url, "--output", "x/y.json", env={"SMPLAT_AUTOMATION_EXPORT_DIR": "never"})
    r.check(0)
    assert (tmp_path / "x" / "y.json").exists() and not (tmp_path / "never").exists()


def test_output_creates_nested_parent_dirs(served, run_cli, tmp_path):
    _, svc = served()
    rows = reference_rows(fetch_history(svc.url))
    target = tmp_path / "a" / "b" / "c" / "runs.csv"
    r = export(run_cli, svc.url, "--format", "csv", "--output", str(target))
    r.check(0)
    assert target.read_bytes() == reference_csv(rows).encode()
    assert r.stdout == f"{TAG} ✅ wrote {len(rows)} rows to {target}\n"
    # The printed path is pathlib's: "./" and doubled slashes are dropped.
    r = export(run_cli, svc.url, "--output", "./d//e/./runs.json")
    r.check(0)
    assert r.stdout == f"{TAG} ✅ wrote {len(rows)} rows to d/e/runs.json\n"
    # A parent that is a file: exit 1 with the OSError text.
    (tmp_path / "plain").write_text("x")
    r = export(run_cli, svc.url, "--output", "plain/runs.json")
    r.check(1)
    assert r.stderr == f"{TAG} ❌ Unexpected error: [Errno 17] File exists: 'plain'\n"


def test_limit_above_100_is_clamped_with_a_warning(served, run_cli):
    many = [("replay", {"processed": i}, None, None, None, None,
             f"2025-02-01T00:{i // 60:02d}:{i % 60:02d}+00:00") for i in range(105)]
    _, svc = served(runs=many)
    r = export(run_cli, svc.url, "--limit", "500", "--format", "csv")
    r.check(0)
    assert r.stderr == f"{TAG} ⚠️ --limit 500 is above the API maximum of 100; using 100\n"
    rows = reference_rows(fetch_history(svc.url, limit=100))
    assert len(rows) == 100
    assert r.stdout == reference_csv(rows)
    # A leading standalone "--" is ignored (pnpm forwarding), prefixes of flags work.
    r = export(run_cli, svc.url, "--", "--lim", "2")
    r.check(0)
    assert r.stdout == reference_json(reference_rows(fetch_history(svc.url, limit=2))) + "\n"
    # Limits the API refuses are reported as the HTTP error they cause.
    r = export(run_cli, svc.url, "--limit", "0")
    r.check(1)
    assert r.stderr == f"{TAG} ❌ HTTP 422 while calling {svc.url}{HISTORY}?limit=0\n"


def test_empty_history_warns_and_still_writes(served, run_cli, tmp_path):
    _, svc = served(runs=[])
    warn = f"{TAG} ⚠️ no runs returned from API\n"
    r = export(run_cli, svc.url)
    r.check(0)
    assert r.stdout == warn + '{\n  "runs": []\n}\n'
    r = export(run_cli, svc.url, "--format", "csv")
    r.check(0)
    assert r.stdout == warn + ",".join(HEADER) + "\r\n"
    r = export(run_cli, svc.url, "--output", "empty.json")
    r.check(0)
    assert r.stdout == warn + f"{TAG} ✅ wrote 0 rows to empty.json\n"
    assert (tmp_path / "empty.json").read_bytes() == b'{\n  "runs": []\n}'


def test_connection_errors_and_bad_urls_exit_1(run_cli):
    base = f"http://127.0.0.1:{free_port()}"
    r = run_cli(["smplat", "export-runs", "--base-url", base])
    r.check(1)
    assert r.stderr == f"{TAG} ❌ Unexpected error: [Errno 111] Connection refused\n"
    assert r.stdout == ""
    # An empty SMPLAT_API_BASE_URL is "", not the default (spec-api-ui §7.1).
    r = run_cli(["smplat", "export-runs"], env={"SMPLAT_API_BASE_URL": ""})
    r.check(1)
    assert r.stderr == (f"{TAG} ❌ Unexpected error: Request URL is missing an 'http://' or "
                        "'https://' protocol.\n")
    r = run_cli(["smplat", "export-runs", "--base-url", "ftp://example.invalid"])
    r.check(1)
    assert r.stderr == f"{TAG} ❌ Unexpected error: Request URL has an unsupported protocol 'ftp://'.\n"


def test_non_json_answers_exit_1(run_cli, mock_provider):
    from harness import Json, InvalidJson, Redirect
    mock_provider.on(HISTORY, InvalidJson())
    r = run_cli(["smplat", "export-runs", "--base-url", mock_provider.url])
    r.check(1)
    assert r.stderr.startswith(f"{TAG} ❌ Unexpected error: ")
    mock_provider.on(HISTORY, Json([{"ranAt": "x"}]))
    r = run_cli(["smplat", "export-runs", "--base-url", mock_provider.url])
    r.check(1)
    assert r.stderr == f"{TAG} ❌ Unexpected error: 'list' object has no attribute 'items'\n"
    # Redirects are not followed: a 3xx is an HTTP error.
    mock_provider.on(HISTORY, Redirect("http://127.0.0.1:1/elsewhere"))
    r = run_cli(["smplat", "export-runs", "--base-url", mock_provider.url, "--limit", "7"])
    r.check(1)
    assert r.stderr == f"{TAG} ❌ HTTP 302 while calling {mock_provider.url}{HISTORY}?limit=7\n"
    # Non-list categories and non-object entries are skipped; extra categories are kept.
    doc = {"replay": [1, "x", {"ranAt": "r1", "summary": [1]}], "alerts": {"a": 1},
           "other": [{"summary": {"processed": 1}}]}
    mock_provider.on(HISTORY, Json(doc))
    r = run_cli(["smplat", "export-runs", "--base-url", mock_provider.url, "--format", "csv"])
    r.check(0)
    assert r.stdout == reference_csv(reference_rows(doc))


def test_usage_errors_exit_2(run_cli):
    r = run_cli(["smplat", "export-runs", "--format", "xml"])
    r.check(2)
    assert "argument --format: invalid choice: 'xml'" in r.stderr and r.stderr.startswith("usage:")
    for args in (["--limit", "ten"], ["--timeout", "soon"], ["--bogus"], ["stray"]):
        r = run_cli(["smplat", "export-runs", *args])
        r.check(2)
        assert "usage: smplat export-runs" in r.stderr
    r = run_cli(["smplat", "export-runs", "--help"])
    r.check(0)
    assert "--base-url" in r.stdout and "SMPLAT_AUTOMATION_EXPORT_DIR" in r.stdout
