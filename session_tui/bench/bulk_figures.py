"""The bulk membership figures: grant, extend and cancel a product's
membership for N/10 selected contacts (every 10th: a selection spread over the whole
table, as a filter makes), through `data.bulk_memberships.apply_bulk`, vs a raw
set-based INSERT…SELECT / UPDATE of the same rows with their history events and the
contacts' `active_until`, in one transaction per action, with the stdlib sqlite3 on a
copy of the same database. Target: at most 1.5× the raw SQL.

The three actions run one after another on the same copy (grant, then extend the
granted memberships, then cancel them), the baseline likewise on its own copy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from session_tui.bench.context import Context, require
from session_tui.bench.datasets import remove_db_files
from session_tui.bench.raw import baseline_and_project_copies, raw_connect, selection
from session_tui.bench.report import Figure

CHUNK = 5_000
EXTEND_TO = datetime(2031, 12, 31)
_DT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a datetime in SQLite
_IDS = "(SELECT value FROM json_each(:ids))"
_END = "coalesce(m.cancelled_at, m.expires_at, '9999-12-31 00:00:00.000000')"
_REFRESH = (
    f"UPDATE contact SET active_until = (SELECT max({_END}) FROM membership m "
    f"WHERE m.contact_id = contact.id) WHERE id IN {_IDS}"
)


def _chunks(ids: Sequence[int]) -> list[str]:
    return [json.dumps(list(ids[i : i + CHUNK])) for i in range(0, len(ids), CHUNK)]


def raw_grant(conn: sqlite3.Connection, ids: Sequence[int], product: int, now: str) -> None:
    mine = f"m.product_id = :p AND m.contact_id IN {_IDS}"
    for chunk in _chunks(ids):
        a = {"ids": chunk, "p": product, "now": now}
        # reactivate the cancelled/expired ones, with their events
        inactive = f"{mine} AND (m.cancelled_at IS NOT NULL OR m.expires_at <= :now)"
        conn.execute(
            "INSERT INTO membership_event (membership_id, at, kind, detail, actor) "
            "SELECT m.id, :now, 'reactivated', 'comped', 'bench' FROM membership m "
            f"WHERE {inactive}",
            a,
        )
        conn.execute(
            "UPDATE membership AS m SET payment_type = 'comped', expires_at = NULL, "
            f"cancelled_at = NULL WHERE {inactive}",
            a,
        )
        # the new ones
        conn.execute(
            "INSERT INTO membership (contact_id, product_id, payment_type, started_at, "
            "expires_at, cancelled_at) SELECT c.id, :p, 'comped', :now, NULL, NULL "
            f"FROM contact c WHERE c.id IN {_IDS} AND NOT EXISTS (SELECT 1 FROM membership m "
            "WHERE m.contact_id = c.id AND m.product_id = :p)",
            a,
        )
        conn.execute(
            "INSERT INTO membership_event (membership_id, at, kind, detail, actor) "
            f"SELECT m.id, :now, 'granted', 'comped, never expires', 'bench' FROM membership m "
            f"WHERE {mine} AND m.started_at = :now",
            a,
        )
        conn.execute(_REFRESH, a)


def raw_change(
    conn: sqlite3.Connection, ids: Sequence[int], product: int, now: str, kind: str
) -> None:
    """extend (to EXTEND_TO) or cancel the selected contacts' memberships of `product`."""
    mine = f"m.product_id = :p AND m.contact_id IN {_IDS} AND m.cancelled_at IS NULL"
    new = EXTEND_TO.strftime(_DT)
    for chunk in _chunks(ids):
        a = {"ids": chunk, "p": product, "now": now, "new": new}
        detail = "'never -> 2031-12-31'" if kind == "extended" else "''"
        conn.execute(
            "INSERT INTO membership_event (membership_id, at, kind, detail, actor) "
            f"SELECT m.id, :now, '{kind}', {detail}, 'bench' FROM membership m WHERE {mine}",
            a,
        )
        column = "expires_at = :new" if kind == "extended" else "cancelled_at = :now"
        conn.execute(f"UPDATE membership AS m SET {column} WHERE {mine}", a)
        conn.execute(_REFRESH, a)


def _baseline(path: Path, ids: Sequence[int], product: int, ctx: Context) -> dict[str, float]:
    from session_tui.data.clock import utcnow

    now = utcnow().strftime(_DT)
    conn = raw_connect(path)
    times: dict[str, float] = {}
    try:
        for name, work in (
            ("grant", lambda: raw_grant(conn, ids, product, now)),
            ("extend", lambda: raw_change(conn, ids, product, now, "extended")),
            ("cancel", lambda: raw_change(conn, ids, product, now, "cancelled")),
        ):

            def one(work: object = work) -> None:
                conn.execute("BEGIN IMMEDIATE")
                work()  # type: ignore[operator]
                conn.execute("COMMIT")

            times[name] = ctx.timed(f"bulk {name} {len(ids)} baseline", one)
    finally:
        conn.close()
    return times


def _project(url: str, ids: Sequence[int], product: int, ctx: Context) -> dict[str, float]:
    from session_tui.data.bulk_memberships import BulkAction, apply_bulk
    from session_tui.data.db import open_database

    db = open_database(url)
    times: dict[str, float] = {}
    try:
        for name, action in (
            ("grant", BulkAction.grant(product, "comped")),
            ("extend", BulkAction.extend(product, EXTEND_TO)),
            ("cancel", BulkAction.cancel(product)),
        ):
            result = None

            def one(action: BulkAction = action) -> None:
                nonlocal result
                result = apply_bulk(db, action, ids, actor="bench")

            times[name] = ctx.timed(f"bulk {name} {len(ids)} project", one)
            assert result is not None
            ctx.log(f"bulk {name}: {result.counts.sentence}")
            if result.counts.contacts != len(ids):
                raise AssertionError(f"{name}: {result.counts.contacts} of {len(ids)} contacts")
    finally:
        db.dispose()
    return times


def figure_bulk(ctx: Context) -> list[Figure]:
    require("session_tui.data.bulk_memberships")
    ds, ids = selection(ctx)
    conn = sqlite3.connect(ds.path)
    try:
        product = conn.execute(
            "SELECT id FROM product WHERE NOT archived ORDER BY id LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()
    base, proj = baseline_and_project_copies(ctx, ds, "bulk")
    try:
        baseline = _baseline(base.path, ids, product, ctx)
        project = _project(proj.url, ids, product, ctx)
    finally:
        remove_db_files(base.path)
        remove_db_files(proj.path)
    return [
        Figure(f"bulk_{name}", project[name], baseline[name], "s", max_ratio=1.5)
        for name in ("grant", "extend", "cancel")
    ]
