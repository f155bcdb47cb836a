"""Helpers the figures share: a stdlib SQLite connection set up like the app's, the
clock as SQLite stores it, and the copies and selections of data-changing figures."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from session_tui.bench.context import Context
from session_tui.bench.datasets import Dataset, copy_dataset


def raw_connect(path: Path) -> sqlite3.Connection:
    """A stdlib connection set up as `data/db.py` sets up the app's connections."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "PRAGMA busy_timeout = 10000",
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA cache_size = -65536",
        "PRAGMA temp_store = MEMORY",
        "PRAGMA journal_mode = WAL",
    ):
        conn.execute(pragma)
    return conn


def now_text() -> str:
    from session_tui.data.clock import utcnow

    return utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")


def spread_contact_ids(conn: sqlite3.Connection, n: int) -> list[int]:
    """Every 10th contact (at most n): a selection spread over the whole table, as a
    filter makes."""
    return [r[0] for r in conn.execute("SELECT id FROM contact WHERE id % 10 = 0 LIMIT ?", (n,))]


def baseline_and_project_copies(ctx: Context, ds: Dataset, name: str) -> tuple[Dataset, Dataset]:
    """Two private copies of `ds` (NAME-baseline.db, NAME-project.db) for a benchmark
    that changes data. Both are on disk before either runs: the write-back of a fresh
    1 GB copy must not slow down whichever side runs first."""
    base = copy_dataset(ds, ctx.scratch_dir / f"{name}-baseline.db")
    proj = copy_dataset(ds, ctx.scratch_dir / f"{name}-project.db")
    os.sync()
    return base, proj


def selection(ctx: Context) -> tuple[Dataset, list[int]]:
    """The large dataset and the contacts a data-changing figure acts on: `delete_count`
    of them, spread over the table (the first ones when too few are spread)."""
    ds = ctx.dataset(ctx.large)
    n = ctx.delete_count
    conn = sqlite3.connect(ds.path)
    try:
        ids = spread_contact_ids(conn, n)
        if len(ids) < n:
            ids = [r[0] for r in conn.execute("SELECT id FROM contact LIMIT ?", (n,))]
    finally:
        conn.close()
    return ds, ids


def export_baseline_sql(db_url: str) -> str:
    """The exporter's own statement (`exporter.export_statement`: every column, the
    `memberships` JSON list included, formula-escaped cells), as SQLite SQL text: the
    export baseline runs the same query, only the CSV lines are written by Python."""
    from sqlalchemy import true

    from session_tui.data.csvio.exporter import export_statement
    from session_tui.data.db import open_database

    db = open_database(db_url)
    try:
        stmt = export_statement(db, true())
        return str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    finally:
        db.dispose()
