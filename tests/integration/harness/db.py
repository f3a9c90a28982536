"""Seeding and reading a test database, the same way on SQLite and PostgreSQL.

    db_exec(url, "INSERT INTO t (id, payload) VALUES (?, ?)", ("a", {"k": 1}))
    rows = db_query(url, "SELECT id, payload FROM t WHERE id = ?", ("a",))
    # -> [{"id": "a", "payload": {"k": 1}}]

Parameters use '?' placeholders on both backends. On SQLite they are bound by the sqlite3
module; on PostgreSQL they are rendered as SQL literals (untyped, so PostgreSQL coerces them to
the column type: text, uuid, jsonb, timestamptz, numeric all work) and the statement is run
through psql. Values: None, bool, int, float, str, bytes, dict/list (stored as JSON text),
datetime/date (ISO text). Without params, sql may hold several statements; with params, a '?'
inside a quoted literal is left alone (but a PostgreSQL jsonb '?' operator is not: pass no
params there).

The schema itself comes from the binary (`smplat migrate`); tests run it first.
"""

import datetime
import json
import os
import sqlite3
import subprocess

from .postgres import psql_path

_SQLITE_PREFIXES = ("sqlite+aiosqlite:///", "sqlite:///")
_PG_PREFIXES = ("postgresql+asyncpg://", "postgresql://", "postgres://")


def sqlite_url(directory, name="t.db"):
    """The DATABASE_URL of an SQLite file in directory: sqlite:///<abs dir>/<name>.

    An absolute path gives four slashes (sqlite:////tmp/x/t.db), as in SQLAlchemy: the path is
    everything after "sqlite:///"."""
    return "sqlite:///" + os.path.join(os.path.abspath(str(directory)), name)


def sqlite_path(url):
    """The file path of an sqlite:/// (or sqlite+aiosqlite:///) URL."""
    for p in _SQLITE_PREFIXES:
        if url.startswith(p):
            path = url[len(p):]
            return path.split("?", 1)[0]
    raise ValueError(f"not an SQLite URL: {url}")


def is_sqlite(url):
    return url.startswith(_SQLITE_PREFIXES)


def is_postgres(url):
    return url.startswith(_PG_PREFIXES)


def pg_url(url):
    """url with the driver suffix dropped (postgresql+asyncpg:// -> postgresql://), for psql."""
    for p in _PG_PREFIXES:
        if url.startswith(p):
            return "postgresql://" + url[len(p):]
    raise ValueError(f"not a PostgreSQL URL: {url}")


def backend(url):
    """ "sqlite" or "postgresql"."""
    if is_sqlite(url):
        return "sqlite"
    if is_postgres(url):
        return "postgresql"
    raise ValueError(f"unknown database URL: {url}")


# ---------------------------------------------------------------------------------------------


def _adapt(v):
    """Python value -> what sqlite3 binds."""
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


def _literal(v):
    """Python value -> a PostgreSQL literal."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return f"'{v!r}'"
        return repr(v)
    if isinstance(v, bytes):
        return "'\\x" + v.hex() + "'"
    if isinstance(v, (dict, list)):
        v = json.dumps(v)
    elif isinstance(v, (datetime.datetime, datetime.date)):
        v = v.isoformat()
    s = str(v)
    if "\0" in s:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return "'" + s.replace("'", "''") + "'"


def render_params(sql, params):
    """Replaces each '?' outside quotes by the literal of the next parameter."""
    params = list(params)
    out, i, q = [], 0, None
    for ch in sql:
        if q:
            out.append(ch)
            if ch == q:
                q = None
            continue
        if ch in ("'", '"'):
            q = ch
            out.append(ch)
        elif ch == "?":
            if i >= len(params):
                raise ValueError("more '?' than parameters")
            out.append(_literal(params[i]))
            i += 1
        else:
            out.append(ch)
    if i != len(params):
        raise ValueError(f"{len(params)} parameters for {i} '?'")
    return "".join(out)


def _psql(url, sql, *extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PGTZ": "UTC", "LC_ALL": "C.UTF-8",
           "PGCONNECT_TIMEOUT": "10"}
    # The SQL goes through stdin (-f -) in one transaction (-1): seeds can be megabytes.
    r = subprocess.run([psql_path(), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", *extra, "-d", pg_url(url),
                        "-f", "-"], input=sql.encode("utf-8"), env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed ({r.returncode}) on {sql[:200]!r}: "
                           f"{r.stderr.decode('utf-8', 'replace').strip()}")
    return r.stdout.decode("utf-8")


def _decode_json_text(v):
    if isinstance(v, str) and v[:1] in ("{", "["):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def db_exec(url, sql, params=None):
    """Runs sql (one statement with params, or a script without) and commits."""
    if is_sqlite(url):
        con = sqlite3.connect(sqlite_path(url), timeout=30)
        try:
            if params is None:
                con.executescript(sql)
            else:
                con.execute(sql, [_adapt(p) for p in params])
            con.commit()
        finally:
            con.close()
        return
    _psql(url, sql if params is None else render_params(sql, params))


def db_query(url, sql, params=None, decode_json=True):
    """Runs one SELECT and returns its rows as a list of dicts (column -> value).

    decode_json: text values that look like JSON objects/arrays are parsed, so a JSON column
    reads the same on both backends (PostgreSQL json/jsonb comes back parsed anyway).
    Differences that remain: booleans are 1/0 on SQLite, true/false on PostgreSQL; PostgreSQL
    timestamps are rendered in UTC as 2025-01-01T00:00:00+00:00 (SQLite returns the stored text).
    """
    if is_sqlite(url):
        con = sqlite3.connect(sqlite_path(url), timeout=30)
        con.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in con.execute(sql, [_adapt(p) for p in (params or [])])]
        finally:
            con.close()
    else:
        q = sql if params is None else render_params(sql, params)
        q = q.strip().rstrip(";")
        wrapped = f"SELECT coalesce(json_agg(_q), '[]'::json) FROM ({q}) AS _q"
        rows = json.loads(_psql(url, wrapped, "-A", "-t") or "[]")
    if decode_json:
        rows = [{k: _decode_json_text(v) for k, v in r.items()} for r in rows]
    return rows


def db_scalar(url, sql, params=None):
    """The first column of the first row, or None."""
    rows = db_query(url, sql, params, decode_json=False)
    if not rows:
        return None
    return next(iter(rows[0].values()))
