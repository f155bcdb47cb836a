"""The PostgreSQL figures: each against the floor, the fastest plain way to do the same
work on the same server, schema and data, measured side by side in the same run.

They run only when the benchmark is given a server (`--postgres URL`, or the
SESSION_TUI_BENCH_POSTGRES environment variable: a URL of a server where databases
may be created); otherwise they print SKIP. The test suite's server
(SESSION_TUI_TEST_POSTGRES) is not used: the smoke test must stay short. The demo
data of the large size is generated once into a database of that server
(`session_tui_bench_<size>_s<seed>`, remembered by a comment on the database,
regenerated when the schema or the generator changes); the figures that change
data work on copies (`CREATE DATABASE … TEMPLATE`).

- `pg_export_floor`: `export_csv` of every contact vs `psql -c "\\copy (<the
  exporter's own statement>) TO file CSV HEADER"`: the same query, the lines written
  by the server. Target ≤ 2×.
- `pg_delete_floor`: `delete_contacts` of every 10th contact (N/10), with its backup,
  vs raw set-based SQL on the same ids: the ids in a temporary table, one DELETE
  per table joined to it, no backup; then the same `VACUUM ANALYZE` the app runs
  after bulk work (`Database.analyze`: the server may run without autovacuum, and
  the filter counts' index-only scans need the visibility map). Target ≤ 1.4× (the
  backup costs ≤ 40 %). The log shows the deletes and the VACUUM apart.
- `pg_undo`: `restore_backup` of that delete's file (what `u` runs) vs that delete
  itself. Target ≤ 1.5×. Both: medians of DELETE_ROUNDS rounds at every size (one
  round at a million swings the ratios by ±0.3), each on fresh copies, the floor and
  the app taking turns at going first.
- `pg_filter_floor`: six `product:P and status:S` filters, count + first page (100
  rows with their products) through the repository; the slowest of the six vs raw
  SQL for the same work: `count(*)` from `membership` alone (one membership per
  contact and product), the first page by `EXISTS`, the same products query. The
  pages must be equal, row for row. Target ≤ 2×.
- `pg_search_sqlite`: count + first page of the searches `smi` and `smith` on
  PostgreSQL vs the same on SQLite, same data, read as the table reads them
  (`ContactsRepository.count_and_page`, then `count` when it gave none); the worse
  term. Target ≤ 2×.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from session_tui.bench.context import Context
from session_tui.bench.datasets import DEMO_NOW, _wanted_meta
from session_tui.bench.report import Figure, median

SERVER_ENVS = ("SESSION_TUI_BENCH_POSTGRES",)
NO_SERVER = "no PostgreSQL server: give --postgres URL"


def server_url() -> str | None:
    """The server the figures run on, or None (they are skipped)."""
    for name in SERVER_ENVS:
        if value := os.environ.get(name, "").strip():
            return value
    return None


def _libpq(url: str, database: str | None = None) -> str:
    """A libpq URL (psql, psycopg) from a SQLAlchemy-style one, on `database`."""
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def _admin(server: str) -> Any:
    import psycopg

    return psycopg.connect(_libpq(server), autocommit=True)


def _drop(server: str, name: str) -> None:
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dataset_name(size: int, seed: int) -> str:
    return f"session_tui_bench_{size}_s{seed}"


def ensure_pg_dataset(ctx: Context, server: str, size: int) -> str:
    """The database holding `size` demo contacts (generated when missing or stale, as
    the SQLite datasets are); returns its name."""
    from session_tui.data.db import open_database
    from session_tui.data.demo import generate_demo

    name = dataset_name(size, ctx.seed)
    wanted = json.dumps(_wanted_meta(size, ctx.seed), sort_keys=True)
    with _admin(server) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if row is not None and row[0] == wanted:
            return name
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    ctx.log(f"generating {size:,} demo contacts on PostgreSQL into {name} ...")
    started = time.perf_counter()
    db = open_database(_libpq(server, name))
    try:
        generate_demo(db, size, seed=ctx.seed, now=DEMO_NOW)  # VACUUM ANALYZE included
    finally:
        db.dispose()
    with _admin(server) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{wanted}'")
    ctx.log(f"generated {size:,} contacts on PostgreSQL in {time.perf_counter() - started:.1f}s")
    return name


@contextmanager
def _copy(server: str, template: str, name: str) -> Iterator[str]:
    """A private copy of a dataset (its statistics included); its URL, dropped after."""
    _drop(server, name)
    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _libpq(server, name)
    finally:
        _drop(server, name)


def _skipped(names: Sequence[str], reason: str) -> list[Figure]:
    return [Figure(name, skip=reason) for name in names]


def _stopwatch(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _checkpoint(server: str) -> None:
    """Write the server's dirty pages out (a fresh copy's), so that their write-back
    does not slow down whichever side runs next."""
    with _admin(server) as conn:
        conn.execute("CHECKPOINT")


# -- export ---------------------------------------------------------------------------

EXPORT_NAMES = ("pg_export_floor",)


def psql_copy(url: str, sql: str, out: Path) -> None:
    """The floor of the export: psql's \\copy of the statement into a CSV file."""
    command = f"\\copy ({' '.join(sql.split())}) TO '{out}' WITH (FORMAT csv, HEADER)"
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", command],
        check=True,
        capture_output=True,
        text=True,
    )


def figure_export(ctx: Context) -> list[Figure]:
    server = server_url()
    if server is None:
        return _skipped(EXPORT_NAMES, NO_SERVER)
    if shutil.which("psql") is None:
        return _skipped(EXPORT_NAMES, "psql not found (Debian package postgresql-client)")
    from session_tui.bench.raw import export_baseline_sql
    from session_tui.data.csvio.exporter import export_csv
    from session_tui.data.db import open_database
    from session_tui.data.repositories.contacts import ContactQuery

    name = ensure_pg_dataset(ctx, server, ctx.large)
    url = _libpq(server, name)
    sql = export_baseline_sql(url)
    floor_out = ctx.scratch_dir / "pg-export-floor.csv"
    project_out = ctx.scratch_dir / "pg-export-project.csv"
    times: dict[str, list[float]] = {"project": [], "floor": []}
    written: list[int] = []
    db = open_database(url)
    try:
        for i in range(1 if ctx.rounds == 1 else 2):
            runs: list[tuple[str, Callable[[], object]]] = [
                ("floor", lambda: psql_copy(url, sql, floor_out)),
                (
                    "project",
                    lambda: written.append(export_csv(db, project_out, query=ContactQuery())),
                ),
            ]
            for label, fn in runs if i % 2 == 0 else runs[::-1]:
                times[label].append(ctx.timed(f"PostgreSQL export {label}", fn))
    finally:
        db.dispose()
        floor_out.unlink(missing_ok=True)
        project_out.unlink(missing_ok=True)
        _done_with(ctx, server, name)
    if any(n != ctx.large for n in written):
        raise AssertionError(f"exported {written} contacts, expected {ctx.large}")
    p, f = median(times["project"]), median(times["floor"])
    return [Figure("pg_export_floor", p, f, "s", max_ratio=2.0)]


def _done_with(ctx: Context, server: str, name: str) -> None:
    """A smoke run (--sizes) leaves no database behind on the server."""
    if ctx.smoke:
        _drop(server, name)


# -- delete and undo --------------------------------------------------------------------

DELETE_NAMES = ("pg_delete_floor", "pg_undo")
DELETE_ROUNDS = 3  # at every size: one round at a million swings the ratios by ±0.3


def floor_delete(url: str, ids: Sequence[int]) -> None:
    """The floor of the delete: the ids in a temporary table, one DELETE per table
    joined to it, one transaction, no backup."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMPORARY TABLE gone (id integer PRIMARY KEY) ON COMMIT DROP")
        conn.execute("INSERT INTO gone SELECT unnest(%s::integer[])", (list(ids),))
        conn.execute("ANALYZE gone")
        conn.execute(
            "DELETE FROM membership_event e USING membership m, gone g "
            "WHERE e.membership_id = m.id AND m.contact_id = g.id"
        )
        conn.execute("DELETE FROM membership m USING gone g WHERE m.contact_id = g.id")
        conn.execute("DELETE FROM contact c USING gone g WHERE c.id = g.id")


def spread_ids(url: str, n: int) -> list[int]:
    """Every 10th contact (at most n), as the SQLite delete figure selects them."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id FROM contact WHERE mod(id, 10) = 0 ORDER BY id LIMIT %s", (n,)
        ).fetchall()
    return [r[0] for r in rows]


def _floor_round(ctx: Context, server: str, name: str, ids: Sequence[int]) -> float:
    """One measurement of the floor on a fresh copy: the raw deletes + VACUUM ANALYZE."""
    from session_tui.data.db import open_database

    n = len(ids)
    with _copy(server, name, f"{name}_floor") as floor_url:
        _checkpoint(server)
        db = open_database(floor_url)
        try:
            raw = ctx.timed(
                f"PostgreSQL delete {n} floor, the deletes", lambda: floor_delete(floor_url, ids)
            )
            stats = ctx.timed(
                f"PostgreSQL delete {n} floor, the VACUUM ANALYZE", lambda: db.analyze(n)
            )
        finally:
            db.dispose()
    return raw + stats


def _project_round(ctx: Context, server: str, name: str, ids: Sequence[int]) -> tuple[float, float]:
    """One measurement of the app on a fresh copy: (delete, undo) seconds."""
    from session_tui.bench.delete_figures import project_round

    with _copy(server, name, f"{name}_project") as project_url:
        _checkpoint(server)
        return project_round(ctx, project_url, ids, ctx.scratch_dir / "pg-backups", "PostgreSQL ")


def figure_delete_undo(ctx: Context) -> list[Figure]:
    """Medians over DELETE_ROUNDS rounds (one round of a delete varies by ±30 % on a
    shared machine, at a million as at 100,000), taking turns at going first."""
    server = server_url()
    if server is None:
        return _skipped(DELETE_NAMES, NO_SERVER)
    name = ensure_pg_dataset(ctx, server, ctx.large)
    ids = spread_ids(_libpq(server, name), ctx.delete_count)
    t: dict[str, list[float]] = {"floor": [], "delete": [], "undo": []}
    try:
        for i in range(DELETE_ROUNDS):
            for side in ("floor", "project") if i % 2 == 0 else ("project", "floor"):
                if side == "floor":
                    t["floor"].append(_floor_round(ctx, server, name, ids))
                else:
                    delete, undo = _project_round(ctx, server, name, ids)
                    t["delete"].append(delete)
                    t["undo"].append(undo)
    finally:
        _done_with(ctx, server, name)
    floor, delete, undo = (median(t[k]) for k in ("floor", "delete", "undo"))
    return [
        Figure("pg_delete_floor", delete, floor, "s", max_ratio=1.4),
        Figure("pg_undo", undo, delete, "s", max_ratio=1.5),
    ]


# -- filters and search -------------------------------------------------------------------

FILTER_NAMES = ("pg_filter_floor",)
SEARCH_NAMES = ("pg_search_sqlite",)
SEARCH_TERMS = ("smi", "smith")


def _pg_sql(sqlite_sql: str) -> str:
    """floors.py's raw SQL (named `:param`s) in psycopg's parameter style."""
    return sqlite_sql.replace(":product", "%(product)s").replace(":now", "%(now)s")


_FLOOR_PRODUCTS = """
SELECT m.contact_id, p.name, m.expires_at, m.cancelled_at
FROM membership m JOIN product p ON p.id = m.product_id
WHERE m.contact_id = ANY(%(ids)s) ORDER BY m.contact_id, p.name
"""


def _alternate(sides: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """The median seconds of each side, measured in turns (A B, B A, …)."""
    times: dict[str, list[float]] = {label: [] for label in sides}
    order = list(sides)
    for i in range(rounds):
        for label in order if i % 2 == 0 else order[::-1]:
            times[label].append(_stopwatch(sides[label]))
    return {label: median(ts) for label, ts in times.items()}


def _one_filter(
    ctx: Context, repo: Any, raw: Any, product: str, status: str
) -> tuple[float, float]:
    """(the app, the floor): median seconds of one filter's count + first page."""
    from session_tui.bench.floors import _ACTIVE, _EXPIRED, _FLOOR_COUNT, _FLOOR_PAGE
    from session_tui.data.clock import utcnow
    from session_tui.data.filters import parse, quote
    from session_tui.data.repositories.contacts import ContactQuery

    text = f"product:{quote(product)} and status:{status}"
    query = ContactQuery(filter=parse(text))
    cond = _ACTIVE if status == "active" else _EXPIRED
    count_sql = _pg_sql(_FLOOR_COUNT.format(status=cond))
    page_sql = _pg_sql(_FLOOR_PAGE.format(status=cond))
    seen: dict[str, tuple[int, list[int]]] = {}

    def project() -> None:
        total = repo.count(query)
        seen["project"] = (total, [r.id for r in repo.page(query, 0, 100, total=total)])

    def floor() -> None:
        params = {"product": product, "now": utcnow()}
        total = raw.execute(count_sql, params).fetchone()[0]
        ids = [r[0] for r in raw.execute(page_sql, params)]
        raw.execute(_FLOOR_PRODUCTS, {"ids": ids}).fetchall()
        seen["floor"] = (total, ids)

    m = _alternate({"project": project, "floor": floor}, 3 if ctx.smoke else 5)
    if seen["project"] != seen["floor"]:
        raise AssertionError(f"{text}: the app's count or first page differs from raw SQL")
    ctx.log(
        f"PostgreSQL filter {text} ({seen['floor'][0]:,} contacts): count+page "
        f"{m['project'] * 1000:.1f}ms, floor {m['floor'] * 1000:.1f}ms"
    )
    return m["project"], m["floor"]


def figure_filter(ctx: Context) -> list[Figure]:
    server = server_url()
    if server is None:
        return _skipped(FILTER_NAMES, NO_SERVER)
    import psycopg

    from session_tui.bench.floors import FILTERS
    from session_tui.data.db import open_database
    from session_tui.data.repositories.contacts import ContactsRepository

    name = ensure_pg_dataset(ctx, server, ctx.large)
    url = _libpq(server, name)
    db = open_database(url)
    raw = psycopg.connect(url, autocommit=True)
    try:
        repo = ContactsRepository(db)
        project, floor = max(_one_filter(ctx, repo, raw, p, s) for p, s in FILTERS)
    finally:
        raw.close()
        db.dispose()
        _done_with(ctx, server, name)
    return [Figure("pg_filter_floor", project, floor, "s", max_ratio=2.0)]


def _one_search(ctx: Context, repos: dict[str, Any], term: str) -> dict[str, float]:
    """Median seconds of a search's count + first page on each database, read as the
    table's first read does (ui/widgets/paged_table/loader.py): `count_and_page`, then
    `count` only when it gave none and the page is full."""
    from session_tui.data.repositories.contacts import ContactQuery
    from session_tui.ui.widgets.paged_table.loader import PAGE_SIZE

    query = ContactQuery(search=term)
    seen: dict[str, tuple[int, list[int]]] = {}
    one_pass: dict[str, bool] = {}

    def side(label: str) -> Callable[[], None]:
        def run() -> None:
            repo = repos[label]
            total, rows = repo.count_and_page(query, 0, PAGE_SIZE)
            one_pass[label] = total is not None
            if total is None:
                total = len(rows) if len(rows) < PAGE_SIZE else repo.count(query)
            seen[label] = (total, [r.id for r in rows])

        return run

    m = _alternate({label: side(label) for label in repos}, 3 if ctx.smoke else 5)
    if seen["postgresql"] != seen["sqlite"]:
        raise AssertionError(f"search {term!r}: PostgreSQL and SQLite disagree")
    how = {label: "one read" if one_pass[label] else "page, then count" for label in repos}
    ctx.log(
        f"search {term!r} ({seen['sqlite'][0]:,} matches): count+page PostgreSQL "
        f"{m['postgresql'] * 1000:.1f}ms ({how['postgresql']}), "
        f"SQLite {m['sqlite'] * 1000:.1f}ms ({how['sqlite']})"
    )
    return m


def figure_search(ctx: Context) -> list[Figure]:
    server = server_url()
    if server is None:
        return _skipped(SEARCH_NAMES, NO_SERVER)
    from session_tui.data.db import open_database
    from session_tui.data.repositories.contacts import ContactsRepository

    name = ensure_pg_dataset(ctx, server, ctx.large)
    pg = open_database(_libpq(server, name))
    lite = open_database(ctx.dataset(ctx.large).url)
    try:
        repos = {"postgresql": ContactsRepository(pg), "sqlite": ContactsRepository(lite)}
        times = [_one_search(ctx, repos, term) for term in SEARCH_TERMS]
    finally:
        pg.dispose()
        lite.dispose()
        _done_with(ctx, server, name)
    worst = max(times, key=lambda m: m["postgresql"] / m["sqlite"])
    return [Figure("pg_search_sqlite", worst["postgresql"], worst["sqlite"], "s", max_ratio=2.0)]
