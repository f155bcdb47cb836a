"""The delete and undo figures: N/10 contacts (every 10th, spread over the table as a
filter selects them) deleted with their backup, then put back from it.

Each figure is printed against today's design baseline and against the floor, from
the same run, each side on its own copy of the same database (stdlib sqlite3, the
app's connection settings). The floor and the app run in rounds, each on fresh
copies, the order turning each round (three in a full run, two with --quick, one in
a smoke run; medians); the design baseline runs once:

- `delete_selected`: `delete_contacts` vs the design baseline, a raw chunked
  `DELETE … WHERE id IN (500 ids)` of the contacts, memberships and history, with
  the per-row FTS trigger (no backup).
- `delete_floor`: the same delete vs the floor: the ids in a temporary table, one
  set-based DELETE per table joined to it and ONE statement for the search index,
  no backup, with the page cache the app's bulk transactions use. Target ≤ 1.4×:
  the backup must cost at most 40 % more.
- `undo_selected`: `restore_backup` of that delete's backup file (what `u` runs) vs
  the design baseline: a raw `executemany` of the same rows, 500 a batch, the
  per-row FTS trigger on.
- `undo_floor`: the same restore vs the floor: `INSERT … SELECT` of the rows kept
  aside in the same database, one statement per table and ONE for the search index.
  Target ≤ 1.5×.
- `delete_undo_rss`: the app's resident memory after deleting those contacts and
  undoing it in the app (headless, memprobe.py `delete-undo`) vs before. Target
  ≤ 1.5× and a peak under 400 MB (`delete_undo_peak`: the peak vs before).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from session_tui.bench.context import Context, NotBuilt
from session_tui.bench.datasets import Dataset, copy_dataset, remove_db_files
from session_tui.bench.raw import raw_connect, selection
from session_tui.bench.report import Figure, median

if TYPE_CHECKING:
    from session_tui.data.db import Database

DELETE_UNDO_FIGURES = (
    "delete_selected",
    "delete_floor",
    "undo_selected",
    "undo_floor",
    "delete_undo_rss",
    "delete_undo_peak",
)
_KEPT = (("contact", "id"), ("membership", "contact_id"), ("membership_event", "membership_id"))


def floor_connect(path: Path) -> sqlite3.Connection:
    """The app's connection settings with the page cache of its bulk transactions."""
    from session_tui.data.sqlite_bulk import CHANGE_CACHE_KIB

    conn = raw_connect(path)
    conn.execute(f"PRAGMA cache_size = -{CHANGE_CACHE_KIB}")
    return conn


def _triggers() -> tuple[str, str, str, str]:
    """(INDEX_SQL, UNINDEX_SQL, CREATE TRIGGER insert, CREATE TRIGGER delete): the app's
    own search-index SQL, so the floors index exactly what the app does."""
    from session_tui.data.sqlite_bulk import DELETE, INDEX_SQL, INSERT, UNINDEX_SQL, trigger_sql

    return INDEX_SQL, UNINDEX_SQL, trigger_sql(INSERT), trigger_sql(DELETE)


# -- the design baselines ------------------------------------------------------------------


def raw_delete(db_path: Path, ids: Sequence[int]) -> None:
    """DELETE … WHERE id IN (500 ids) of the ids, their memberships and history."""
    conn = raw_connect(db_path)
    try:
        conn.execute("BEGIN")
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            conn.execute(
                "DELETE FROM membership_event WHERE membership_id IN "
                f"(SELECT id FROM membership WHERE contact_id IN ({marks}))",
                chunk,
            )
            conn.execute(f"DELETE FROM membership WHERE contact_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM contact WHERE id IN ({marks})", chunk)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _keep_rows(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    """Copy the rows the delete takes into kept_* tables (not timed)."""
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE kept_ids (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO kept_ids SELECT value FROM json_each(?)", (json.dumps(list(ids)),))
    conn.execute("CREATE TABLE kept_contact AS SELECT * FROM contact WHERE id IN kept_ids")
    conn.execute(
        "CREATE TABLE kept_membership AS SELECT * FROM membership WHERE contact_id IN kept_ids"
    )
    conn.execute(
        "CREATE TABLE kept_membership_event AS SELECT * FROM membership_event "
        "WHERE membership_id IN (SELECT id FROM kept_membership)"
    )
    conn.execute("COMMIT")


def raw_reinsert_rows(db_path: Path) -> None:
    """Design baseline of the undo: executemany of the kept rows, 500 a batch, the
    FTS trigger on (a plain program re-inserting what it read back)."""
    conn = raw_connect(db_path)
    try:
        rows = {t: conn.execute(f"SELECT * FROM kept_{t} ORDER BY id").fetchall() for t, _ in _KEPT}
        conn.execute("BEGIN")
        for table, _ in _KEPT:
            data = rows[table]
            if not data:
                continue
            marks = ",".join("?" * len(data[0]))
            for start in range(0, len(data), 500):
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", data[start : start + 500])
        conn.execute("COMMIT")
    finally:
        conn.close()


# -- the floors -------------------------------------------------------------------------


def floor_delete(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    """ids in a temp table, set-based deletes, one FTS delete, no backup."""
    _index, unindex, _add, remove = _triggers()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TEMP TABLE gone (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO gone SELECT value FROM json_each(?)", (json.dumps(list(ids)),))
    conn.execute("DROP TRIGGER contact_fts_ad")
    conn.execute(
        "DELETE FROM membership_event WHERE membership_id IN "
        "(SELECT id FROM membership WHERE contact_id IN (SELECT id FROM gone))"
    )
    conn.execute("DELETE FROM membership WHERE contact_id IN (SELECT id FROM gone)")
    conn.execute(unindex.format(where="id IN (SELECT id FROM gone)"))
    conn.execute("DELETE FROM contact WHERE id IN (SELECT id FROM gone)")
    conn.execute(remove)
    conn.execute("DROP TABLE temp.gone")
    conn.execute("COMMIT")


def floor_reinsert(conn: sqlite3.Connection) -> None:
    """INSERT … SELECT of the kept rows, one statement per table, one FTS insert."""
    index, _unindex, add, _remove = _triggers()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DROP TRIGGER contact_fts_ai")
    for table, _ in _KEPT:
        conn.execute(f"INSERT INTO {table} SELECT * FROM kept_{table}")
    conn.execute(index.format(where="id IN (SELECT id FROM kept_contact)"))
    conn.execute(add)
    conn.execute("COMMIT")


# -- the figure ---------------------------------------------------------------------------


def _copies(ctx: Context, ds: Dataset, names: Sequence[str]) -> list[Dataset]:
    out = [copy_dataset(ds, ctx.scratch_dir / f"delundo-{name}.db") for name in names]
    os.sync()
    return out


def timed_delete_and_undo(
    ctx: Context, db: Database, ids: Sequence[int], backups: Path, label: str
) -> tuple[float, float, int]:
    """The project's side: `delete_contacts` of `ids` with its backup, then
    `restore_backup` of that file (what `u` runs), each timed; returns both times
    and how many contacts the delete removed. A delete of nothing goes first, as the
    warm-up: imports, the first connection, and the sort-key collation table (a
    process loads it once, ~1 s, for any edit, import or restore)."""
    from session_tui.data.collation import name_key
    from session_tui.data.deletion import delete_contacts, restore_backup

    name_key("warm", "up")
    delete_contacts(db, [], backups_dir=backups).backup_path.unlink(missing_ok=True)
    n = len(ids)
    results = []
    deleted = ctx.timed(
        f"{label}delete {n} project",
        lambda: results.append(delete_contacts(db, ids, backups_dir=backups)),
    )
    backup = results[-1].backup_path
    undone = ctx.timed(f"{label}undo {n} project", lambda: restore_backup(db, backup))
    backup.unlink(missing_ok=True)
    return deleted, undone, results[-1].contacts


def _rounds(ctx: Context) -> int:
    """Three rounds in a full run (a true median: one slow round moves nothing), two
    with --quick, one in a smoke run (as the import figures)."""
    return 1 if ctx.smoke else 3 if ctx.rounds > 1 else 2


def _design_round(ctx: Context, ds: Dataset, ids: Sequence[int]) -> tuple[float, float]:
    """The design baseline's delete and undo, on a fresh copy."""
    (design,) = _copies(ctx, ds, ("design",))
    n = len(ids)
    try:
        conn = raw_connect(design.path)
        _keep_rows(conn, ids)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        os.sync()  # the kept rows' write-back must not slow down the delete
        delete = ctx.timed(f"delete {n} design", lambda: raw_delete(design.path, ids))
        undo = ctx.timed(f"undo {n} design", lambda: raw_reinsert_rows(design.path))
    finally:
        remove_db_files(design.path)
    return delete, undo


def _floor_round(ctx: Context, floor: Dataset, ids: Sequence[int]) -> tuple[float, float]:
    """The floor's delete and undo on `floor`, a fresh copy with the kept rows."""
    n = len(ids)
    conn = floor_connect(floor.path)
    try:
        delete = ctx.timed(f"delete {n} floor", lambda: floor_delete(conn, ids))
        undo = ctx.timed(f"undo {n} floor", lambda: floor_reinsert(conn))
    finally:
        conn.close()
    return delete, undo


def project_round(
    ctx: Context, url: str, ids: Sequence[int], backups: Path, label: str
) -> tuple[float, float]:
    """The app's delete (with its backup) and undo of `ids` on the database at `url`
    (a fresh copy): (delete, undo) seconds; every id must have been deleted."""
    from session_tui.data.db import open_database

    db = open_database(url)
    try:
        delete, undo, deleted = timed_delete_and_undo(ctx, db, ids, backups, label)
    finally:
        db.dispose()
    if deleted != len(ids):
        raise AssertionError(f"deleted {deleted} of {len(ids)} contacts")
    return delete, undo


def _project_round(ctx: Context, proj: Dataset, ids: Sequence[int]) -> tuple[float, float]:
    return project_round(ctx, proj.url, ids, ctx.scratch_dir / "backups", "")


def figure_delete_undo(ctx: Context) -> list[Figure]:
    ds, ids = selection(ctx)
    n = ctx.delete_count
    design_delete, design_undo = _design_round(ctx, ds, ids)
    t: dict[str, list[float]] = {k: [] for k in ("delete", "undo", "delete floor", "undo floor")}
    # Rounds of the floor and the project, each on fresh copies of the same database;
    # the order turns each round (floor, project; project, floor; ...), so that neither
    # side always runs last on a machine that got busier meanwhile. Medians.
    for i in range(_rounds(ctx)):
        floor, proj = _copies(ctx, ds, ("floor", "project"))
        try:
            conn = raw_connect(floor.path)
            _keep_rows(conn, ids)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            os.sync()  # the kept rows' write-back must not slow down whichever side runs next
            order = [("floor", floor), ("", proj)]
            for name, copy in order if i % 2 == 0 else order[::-1]:
                run = _floor_round if name else _project_round
                delete, undo = run(ctx, copy, ids)
                suffix = f" {name}" if name else ""
                t["delete" + suffix].append(delete)
                t["undo" + suffix].append(undo)
        finally:
            for copy in (floor, proj):
                remove_db_files(copy.path)
    ctx.log(
        "delete/undo rounds: "
        + "; ".join(f"{k} " + " ".join(f"{v:.2f}" for v in vs) for k, vs in t.items())
    )
    rss = _memory(ctx, ds, n)
    delete, undo = median(t["delete"]), median(t["undo"])
    return [
        Figure("delete_selected", delete, design_delete, "s", max_ratio=5.0),
        Figure("delete_floor", delete, median(t["delete floor"]), "s", max_ratio=1.4),
        Figure("undo_selected", undo, design_undo, "s", max_ratio=5.0),
        Figure("undo_floor", undo, median(t["undo floor"]), "s", max_ratio=1.5),
        Figure("delete_undo_rss", rss["after"], rss["before"], "MB", max_ratio=1.5),
        Figure(
            "delete_undo_peak", rss["peak"], rss["before"], "MB", max_ratio=4.0, max_value=400.0
        ),
    ]


def _memory(ctx: Context, ds: Dataset, n: int) -> dict[str, float]:
    """RSS (MB) of the app before, at the peak of, and after a delete of n and its undo."""
    (copy,) = _copies(ctx, ds, ("memory",))
    env = dict(os.environ)
    env["SESSION_TUI_DATA_DIR"] = str(ctx.workdir / "data")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "session_tui.bench.memprobe", "delete-undo", copy.url, str(n)],
            capture_output=True,
            text=True,
            env=env,
            timeout=1200,
            check=False,
        )
    finally:
        remove_db_files(copy.path)
    if proc.returncode == 3:
        raise NotBuilt(proc.stderr.strip())
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory probe failed: {tail}")
    rss: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    ctx.log(
        f"delete+undo {n} in the app: RSS before {rss['before']:.0f} MB, peak "
        f"{rss['peak']:.0f} MB, after delete {rss['deleted']:.0f} MB, after undo "
        f"{rss['after']:.0f} MB"
    )
    return rss
