"""The figures of the benchmark, each next to the baseline it is compared with.

- import: `import_csv` of an N-row CSV of contacts into a new database, vs stdlib
  csv + sqlite3 `executemany` `INSERT OR IGNORE` of the same rows, one transaction.
- export: `export_csv` of N contacts, vs the stdlib csv writer over the cells of
  the exporter's own statement (`export_statement`, the `memberships` column
  included): the same query, the lines written by Python instead of the database.
- start, search (median, p95), page_down, end: the app headless, from the key
  press (or from creating the app) until the rows are painted (ui.py), vs the
  same at the small size.
- filter, startup: against the design baseline and the floor (floors.py).
- delete: N/10 selected contacts deleted with backup and undone, against the
  design baseline and the floor, with the app's memory (delete_figures.py).
- memory: peak RSS of the app through a short session (a subprocess per size,
  memprobe.py), vs the same at the small size.

The raw baselines use the stdlib `sqlite3` module on a connection with the same
pragmas the app sets (`data/db.py`), on a database with the same schema.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from session_tui.bench import pg_figures as pg
from session_tui.bench.bulk_figures import figure_bulk
from session_tui.bench.context import Context, NotBuilt
from session_tui.bench.datasets import remove_db_files, write_cached
from session_tui.bench.delete_figures import DELETE_UNDO_FIGURES, figure_delete_undo
from session_tui.bench.export_floor import figure_export_floor
from session_tui.bench.floors import figure_filter, figure_startup
from session_tui.bench.import_figures import IMPORT_FIGURES, figure_import_floor
from session_tui.bench.raw import (
    export_baseline_sql,
    now_text,
    raw_connect,
)
from session_tui.bench.report import Figure, median, p95


@dataclass(frozen=True)
class FigureSpec:
    key: str
    names: tuple[str, ...]  # the figure lines it prints
    run: Callable[[Context], list[Figure]]


def _fresh_database(path: Path) -> str:
    """A new, empty database with the app's schema (migrated); returns its URL."""
    from session_tui.data.db import open_database

    remove_db_files(path)
    db = open_database(f"sqlite:///{path}")
    db.dispose()
    return f"sqlite:///{path}"


def _stopwatch(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# -- export and import ------------------------------------------------------------------

# The import's input: the contact columns of an export (`exporter.SUMMARY_COLUMNS`:
# email, names, status, products and payment types, created_at), as the figure has
# always read. The import figure measures contacts: it maps the two membership
# columns to "ignore".
IMPORT_INPUT_SQL = """
SELECT c.email, c.first_name, c.last_name,
       CASE WHEN c.active_until IS NULL THEN 'none'
            WHEN c.active_until > :now THEN 'active' ELSE 'expired' END,
       (SELECT group_concat(name, '; ') FROM (
            SELECT p.name AS name FROM membership m JOIN product p ON p.id = m.product_id
            WHERE m.contact_id = c.id ORDER BY p.name)),
       (SELECT group_concat(payment_type, '; ') FROM (
            SELECT m.payment_type AS payment_type FROM membership m
            JOIN product p ON p.id = m.product_id
            WHERE m.contact_id = c.id ORDER BY p.name)),
       c.created_at
FROM contact c ORDER BY c.id
"""


def raw_export(db_path: Path, out_path: Path, sql: str) -> int:
    """The export baseline: the stdlib csv writer over the exporter's own query's cells."""
    from session_tui.data.csvio.exporter import EXPORT_COLUMNS

    return _write_csv(db_path, out_path, EXPORT_COLUMNS, sql)


def write_import_input(db_path: Path, out_path: Path) -> int:
    """The import figure's input file: the contact columns of the large dataset."""
    from session_tui.data.csvio.exporter import SUMMARY_COLUMNS

    return _write_csv(db_path, out_path, SUMMARY_COLUMNS, IMPORT_INPUT_SQL, {"now": now_text()})


def _write_csv(
    db_path: Path,
    out_path: Path,
    header: Sequence[str],
    sql: str,
    params: dict[str, str] | None = None,
) -> int:
    """`header`, then the rows of `sql`, by the stdlib csv writer; returns the rows written."""
    conn = raw_connect(db_path)
    n = 0
    try:
        with open(out_path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(header)
            cursor = conn.execute(sql, params or {})
            while rows := cursor.fetchmany(5000):
                writer.writerows(rows)
                n += len(rows)
    finally:
        conn.close()
    return n


def equivalent_contact_table(path: Path) -> None:
    """A new database holding only a `contact` table equivalent to the app's.

    Same columns, constraints (the unique email that INSERT OR IGNORE relies on)
    and b-tree indexes, copied from a freshly migrated database -- but not the
    search index (the FTS5 table and its triggers): the baseline is the time
    SQLite itself needs to insert the rows, the importer also builds the index.
    """
    template = path.with_name(path.name + ".template")
    _fresh_database(template)
    src = sqlite3.connect(template)
    try:
        ddl = [
            sql
            for (sql,) in src.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'contact' "
                "AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC"
            )
        ]
    finally:
        src.close()
    remove_db_files(template)
    remove_db_files(path)
    conn = raw_connect(path)
    try:
        for sql in ddl:
            conn.execute(sql)
    finally:
        conn.close()


def raw_import(csv_path: Path, db_path: Path) -> int:
    """The import baseline: stdlib csv + executemany INSERT OR IGNORE, one transaction."""
    conn = raw_connect(db_path)
    now = now_text()

    def rows() -> object:
        with open(csv_path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for r in reader:
                created = r[6].replace("T", " ").rstrip("Z") if len(r) > 6 else now
                yield (r[0].strip().lower(), r[1].strip(), r[2].strip(), created, now)

    try:
        conn.execute("BEGIN")
        cur = conn.executemany(
            "INSERT OR IGNORE INTO contact (email, first_name, last_name, created_at, "
            "updated_at, version) VALUES (?, ?, ?, ?, ?, 1)",
            rows(),  # type: ignore[arg-type]
        )
        added = cur.rowcount
        conn.execute("COMMIT")
    finally:
        conn.close()
    return added


def _import_file(ctx: Context) -> Path:
    """The large dataset's contacts as CSV: the import's input."""
    ds = ctx.dataset(ctx.large)
    path = ctx.scratch_dir / f"contacts-{ctx.large}-seed{ctx.seed}.csv"
    if not path.exists() or path.stat().st_mtime < ds.path.stat().st_mtime:
        write_cached(path, lambda part: write_import_input(ds.path, part))
    return path


def _export_path(ctx: Context) -> Path:
    return ctx.scratch_dir / f"export-baseline-{ctx.large}-seed{ctx.seed}.csv"


def figure_export(ctx: Context) -> list[Figure]:
    try:
        from session_tui.data.csvio.exporter import export_csv
    except ImportError as exc:
        raise NotBuilt from exc
    from session_tui.data.db import open_database
    from session_tui.data.repositories.contacts import ContactQuery

    ds = ctx.dataset(ctx.large)
    raw_out = _export_path(ctx)
    project_out = ctx.scratch_dir / "export-project.csv"
    sql = export_baseline_sql(ds.url)
    baseline = ctx.timed("export baseline", lambda: raw_export(ds.path, raw_out, sql))
    db = open_database(ds.url)
    try:
        value = ctx.timed(
            "export project", lambda: export_csv(db, project_out, query=ContactQuery())
        )
    finally:
        db.dispose()
    project_out.unlink(missing_ok=True)
    raw_out.unlink(missing_ok=True)
    return [Figure("export_csv", value, baseline, "s", max_ratio=1.5)]


def figure_import(ctx: Context) -> list[Figure]:
    try:
        from session_tui.data.csvio.importer import import_csv
    except ImportError as exc:
        raise NotBuilt from exc
    from session_tui.data.csvio.exporter import SUMMARY_COLUMNS
    from session_tui.data.csvio.mapping import auto_mapping
    from session_tui.data.csvio.reader import sniff
    from session_tui.data.db import open_database

    source = _import_file(ctx)
    contacts_only = auto_mapping(SUMMARY_COLUMNS)
    for column in ("products", "payment_types"):
        contacts_only = contacts_only.with_field(SUMMARY_COLUMNS.index(column), None)
    base_path = ctx.scratch_dir / "import-baseline.db"
    proj_path = ctx.scratch_dir / "import-project.db"
    equivalent_contact_table(base_path)
    url = _fresh_database(proj_path)
    added_raw = 0

    def baseline_run() -> None:
        nonlocal added_raw
        added_raw = raw_import(source, base_path)

    baseline = ctx.timed("import baseline", baseline_run)
    db = open_database(url)
    added = 0

    def project_run() -> None:
        nonlocal added
        added = import_csv(db, sniff(source, mapping=contacts_only)).added

    try:
        value = ctx.timed("import project", project_run)
    finally:
        db.dispose()
    for path in (base_path, proj_path):
        remove_db_files(path)
    if added != ctx.large or added_raw != ctx.large:
        raise AssertionError(
            f"expected {ctx.large} contacts added, the importer added {added}, "
            f"the baseline {added_raw}"
        )
    return [Figure("import_csv", value, baseline, "s", max_ratio=2.0)]


# -- the UI figures (session_tui/bench/ui.py) ---------------------------------------------


def figure_start(ctx: Context) -> list[Figure]:
    from session_tui.bench import ui

    small, large = ctx.dataset(ctx.small), ctx.dataset(ctx.large)
    ui.run(ui.time_start(small.url))  # warm-up: imports, CSS parsing
    times: dict[int, list[float]] = {ctx.small: [], ctx.large: []}
    # A start is short and noisy (a few hundred ms, mostly Textual's own start-up):
    # twice the repeats, in small-large-large-small rounds.
    for i in range(2 * ctx.repeats):
        for ds in (small, large) if i % 2 == 0 else (large, small):
            # A real start is a new process; here each start follows earlier apps in
            # the same process, whose garbage a full collection during the timed
            # start would sweep (~100 ms, every other start at 1M). Swept first.
            gc.collect()
            seconds = ui.run(ui.time_start(ds.url))
            ctx.log(f"start {ds.size}: {seconds * 1000:.1f}ms")
            times[ds.size].append(seconds)
    return [
        Figure("app_start", median(times[ctx.large]), median(times[ctx.small]), "s", max_ratio=1.3)
    ]


def _abba(ctx: Context) -> list[int]:
    """The order in which the sizes are measured: small, large (and, in a full run,
    large, small again), so that a machine getting busier or quieter during the
    run weighs on both sizes alike."""
    order = [ctx.small, ctx.large]
    return order + order[::-1] if ctx.rounds > 1 else order


def _per_size(
    ctx: Context, label: str, measure: Callable[[str], list[float]]
) -> dict[int, list[float]]:
    res: dict[int, list[float]] = {ctx.small: [], ctx.large: []}
    for size in _abba(ctx):
        seconds = measure(ctx.dataset(size).url)
        ctx.log(f"{label} {size}: " + " ".join(f"{s * 1000:.0f}" for s in seconds) + " ms")
        res[size].extend(seconds)
    return res


def figure_search(ctx: Context) -> list[Figure]:
    from session_tui.bench import ui

    terms = ui.SEARCH_TERMS[:4] if ctx.smoke else ui.SEARCH_TERMS
    ctx.log("search terms: " + " | ".join(terms))
    res = _per_size(ctx, "search", lambda url: ui.run(ui.time_search(url, terms)))
    lo, hi = res[ctx.small], res[ctx.large]
    return [
        Figure("search_median", median(hi), median(lo), "s", max_ratio=3.0, max_value=0.050),
        Figure("search_p95", p95(hi), p95(lo), "s", max_ratio=3.0),
    ]


def figure_page_down(ctx: Context) -> list[Figure]:
    from session_tui.bench import ui

    presses = 5 if ctx.smoke else 20
    res = _per_size(ctx, "page down", lambda url: ui.run(ui.time_page_down(url, presses)))
    return [Figure("page_down", median(res[ctx.large]), median(res[ctx.small]), "s", max_ratio=1.5)]


def figure_end(ctx: Context) -> list[Figure]:
    from session_tui.bench import ui

    res = _per_size(ctx, "End", lambda url: ui.run(ui.time_end(url, ctx.repeats)))
    return [Figure("end_key", median(res[ctx.large]), median(res[ctx.small]), "s", max_ratio=1.5)]


def peak_memory_mb(ctx: Context, url: str) -> float:
    """Peak RSS of a fresh process running the app through a short session (memprobe.py)."""
    env = dict(os.environ)
    env["SESSION_TUI_DATA_DIR"] = str(ctx.workdir / "data")
    proc = subprocess.run(
        [sys.executable, "-m", "session_tui.bench.memprobe", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if proc.returncode == 3:
        raise NotBuilt(proc.stderr.strip())
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory probe failed: {tail}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def figure_memory(ctx: Context) -> list[Figure]:
    sizes = {size: ctx.dataset(size).url for size in (ctx.small, ctx.large)}
    mb = {}
    for size, url in sizes.items():
        mb[size] = peak_memory_mb(ctx, url)
        ctx.log(f"peak memory {size}: {mb[size]:.1f}MB")
    return [Figure("peak_memory", mb[ctx.large], mb[ctx.small], "MB", max_ratio=1.3)]


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("import", ("import_csv",), figure_import),
    FigureSpec("import_floor", IMPORT_FIGURES, figure_import_floor),
    FigureSpec("export", ("export_csv",), figure_export),
    FigureSpec("export_floor", ("export_floor",), figure_export_floor),
    FigureSpec("start", ("app_start",), figure_start),
    FigureSpec("startup", ("version_start", "first_paint", "first_paint_floor"), figure_startup),
    FigureSpec("search", ("search_median", "search_p95"), figure_search),
    FigureSpec("page_down", ("page_down",), figure_page_down),
    FigureSpec("end", ("end_key",), figure_end),
    FigureSpec("filter", ("filter_change", "filter_change_floor"), figure_filter),
    FigureSpec("delete", DELETE_UNDO_FIGURES, figure_delete_undo),
    FigureSpec("memory", ("peak_memory",), figure_memory),
    FigureSpec("bulk", ("bulk_grant", "bulk_extend", "bulk_cancel"), figure_bulk),
    FigureSpec("pg_export", pg.EXPORT_NAMES, pg.figure_export),
    FigureSpec("pg_delete", pg.DELETE_NAMES, pg.figure_delete_undo),
    FigureSpec("pg_filter", pg.FILTER_NAMES, pg.figure_filter),
    FigureSpec("pg_search", pg.SEARCH_NAMES, pg.figure_search),
)
