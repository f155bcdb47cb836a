"""The filter and start-up figures, each against today's design baseline and the floor.

- filter: six `product:P and status:S` filters at the large size, count + first page
  (100 rows with their products) through the repository.
  - `filter_change`: against the design baseline of the first benchmark -- the raw
    semi-join count `SELECT count(*) FROM contact WHERE id IN (SELECT contact_id FROM
    membership WHERE …)` (the count the app itself used to run).
  - `filter_change_floor`: the slowest of the six against the best raw SQL doing the
    same work on the same connection settings: `count(*)` over the covering
    ix_membership_product_status, then the first page walking ix_contact_name_key with a
    per-contact probe of ux_membership_contact_product, then the same products query
    for those rows. Target: ≤ 2× and ≤ 150 ms.
- start-up, each a fresh process timed from its spawn (interpreter start and every
  import included, as a user waits for them):
  - `version_start`: `python -m session_tui --version` against the floor `python -c
    pass`. Target: < 0.3 s (and ≤ 5× the floor: nothing but the interpreter is needed).
  - `first_paint`: `session-tui --db URL` until the Contacts table shows its first page
    (firstpaint.py) at the large size, against the same at the small size (the design
    baseline: start-up does not grow with the database). Target: ≤ 1.3× and < 1.0 s.
  - `first_paint_floor`: the same against a bare Textual app (one Static) painted
    the same way -- the floor of any Textual app on this machine. Target: ≤ 3× (the
    app also loads SQLAlchemy and reads a database; our choice, docs/performance.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from session_tui.bench.context import Context, NotBuilt
from session_tui.bench.raw import now_text, raw_connect
from session_tui.bench.report import Figure, median

FILTERS: tuple[tuple[str, str], ...] = (
    ("1:1 Coaching", "active"),
    ("1:1 Coaching", "expired"),
    ("Group Program", "active"),
    ("Course: Mindset Reset", "expired"),
    ("Community Membership", "active"),
    ("Leadership Masterclass", "expired"),
)

_PRODUCT = "(SELECT id FROM product WHERE lower(name) = lower(:product))"
_ACTIVE = "m.cancelled_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > :now)"
_EXPIRED = "(m.cancelled_at IS NOT NULL OR m.expires_at <= :now)"
# The design baseline (the count the app used to run).
_SEMI_JOIN_COUNT = f"""
SELECT count(*) FROM contact WHERE id IN (
    SELECT m.contact_id FROM membership m WHERE m.product_id = {_PRODUCT} AND {{status}})
"""
# The floor: the best raw SQL for the same count and page.
_FLOOR_COUNT = f"SELECT count(*) FROM membership m WHERE m.product_id = {_PRODUCT} AND {{status}}"
_FLOOR_PAGE = f"""
SELECT c.id, c.email, c.first_name, c.last_name, c.created_at, c.updated_at, c.version,
       c.active_until
FROM contact c WHERE EXISTS (
    SELECT 1 FROM membership m
    WHERE m.contact_id = c.id AND m.product_id = {_PRODUCT} AND {{status}})
ORDER BY c.name_key, c.id LIMIT 100
"""
_FLOOR_PRODUCTS = """
SELECT m.contact_id, p.name, m.expires_at, m.cancelled_at
FROM membership m JOIN product p ON p.id = m.product_id
WHERE m.contact_id IN ({marks}) ORDER BY m.contact_id, p.name
"""


def _stopwatch(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def figure_filter(ctx: Context) -> list[Figure]:
    try:
        from session_tui.data.filters import parse, quote
    except ImportError as exc:
        raise NotBuilt from exc
    from session_tui.data.db import open_database
    from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository

    ds = ctx.dataset(ctx.large)
    db = open_database(ds.url)
    raw = raw_connect(ds.path)
    repo = ContactsRepository(db)
    project_total = design_total = 0.0
    worst: tuple[float, float] = (0.0, 0.0)  # (project, floor) of the slowest filter
    counts: dict[str, int] = {}
    pages: dict[str, list[int]] = {}
    try:
        for product, status in FILTERS:
            text = f"product:{quote(product)} and status:{status}"
            query = ContactQuery(filter=parse(text))
            cond = _ACTIVE if status == "active" else _EXPIRED
            counts.clear()
            pages.clear()

            def project(query: ContactQuery = query) -> None:
                counts["project"] = repo.count(query)
                rows = repo.page(query, 0, 100, total=counts["project"])
                pages["project"] = [r.id for r in rows]

            def design(cond: str = cond, product: str = product) -> None:
                params = {"product": product, "now": now_text()}
                sql = _SEMI_JOIN_COUNT.format(status=cond)
                counts["design"] = raw.execute(sql, params).fetchone()[0]

            def floor(cond: str = cond, product: str = product) -> None:
                params = {"product": product, "now": now_text()}
                count_sql = _FLOOR_COUNT.format(status=cond)
                counts["floor"] = raw.execute(count_sql, params).fetchone()[0]
                rows = raw.execute(_FLOOR_PAGE.format(status=cond), params).fetchall()
                ids = [r[0] for r in rows]
                if ids:
                    sql = _FLOOR_PRODUCTS.format(marks=",".join("?" * len(ids)))
                    raw.execute(sql, ids).fetchall()
                pages["floor"] = ids

            times: dict[str, list[float]] = {"project": [], "design": [], "floor": []}
            for i in range(3):
                order = (project, design, floor) if i % 2 == 0 else (floor, design, project)
                for fn in order:
                    times[fn.__name__].append(_stopwatch(fn))
            if not counts["project"] == counts["design"] == counts["floor"]:
                raise AssertionError(f"{text}: counts differ: {counts}")
            if pages["project"] != pages["floor"]:
                raise AssertionError(f"{text}: the app's first page differs from the floor's")
            p, d, f = (median(times[k]) for k in ("project", "design", "floor"))
            project_total += p
            design_total += d
            if p > worst[0]:
                worst = (p, f)
            ctx.log(
                f"filter {text} ({counts['floor']:,} contacts): count+page {p * 1000:.1f}ms, "
                f"design baseline (semi-join count) {d * 1000:.1f}ms, "
                f"floor (count+page) {f * 1000:.1f}ms"
            )
    finally:
        raw.close()
        db.dispose()
    return [
        Figure("filter_change", project_total, design_total, "s", max_ratio=3.0),
        Figure("filter_change_floor", worst[0], worst[1], "s", max_ratio=2.0, max_value=0.150),
    ]


# -- start-up -------------------------------------------------------------------------


def _spawn_until(args: list[str], marker: str | None) -> float:
    """Seconds from spawning `python ARGS` to the line `marker` on its stdout (or to
    its exit when `marker` is None)."""
    env = dict(os.environ)
    # The warm-up writes the .pyc files an installed copy has (pip compiles them): with
    # PYTHONDONTWRITEBYTECODE set, every start of an editable install would compile the
    # project's modules again, a cost no user pays (the bare floor never does).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    if marker is None:
        out, err = proc.communicate(timeout=120)
        seconds = time.perf_counter() - started
    else:
        line = proc.stdout.readline()
        seconds = time.perf_counter() - started
        out, err = proc.communicate(timeout=120)
        out = line + out
        if line.strip() != marker:
            raise RuntimeError(f"python {' '.join(args)}: expected {marker!r}, got {line!r}")
    if proc.returncode != 0:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"python {' '.join(args)} failed: {tail}")
    return seconds


def figure_startup(ctx: Context) -> list[Figure]:
    small, large = ctx.dataset(ctx.small), ctx.dataset(ctx.large)
    fp = ["-m", "session_tui.bench.firstpaint"]
    runs: dict[str, tuple[list[str], str | None]] = {
        "pass": (["-c", "pass"], None),
        "version": (["-m", "session_tui", "--version"], None),
        "bare": ([*fp, "bare"], "painted"),
        "small": ([*fp, "app", small.url], "painted"),
        "large": ([*fp, "app", large.url], "painted"),
    }
    for args, marker in runs.values():  # warm-up: the OS page cache, .pyc files
        _spawn_until(args, marker)
    times: dict[str, list[float]] = {name: [] for name in runs}
    # Five processes a round, ~3 s together: a full run takes its repeats, --quick 3.
    for i in range(ctx.repeats if ctx.rounds > 1 else min(3, ctx.repeats)):
        names = list(runs) if i % 2 == 0 else list(reversed(runs))
        for name in names:
            times[name].append(_spawn_until(*runs[name]))
    ctx.log(
        "start-up (median ms): "
        + ", ".join(f"{name} {median(ts) * 1000:.0f}" for name, ts in times.items())
    )
    m = {name: median(ts) for name, ts in times.items()}
    return [
        Figure("version_start", m["version"], m["pass"], "s", max_ratio=5.0, max_value=0.3),
        Figure("first_paint", m["large"], m["small"], "s", max_ratio=1.3, max_value=1.0),
        Figure("first_paint_floor", m["large"], m["bare"], "s", max_ratio=3.0, max_value=1.0),
    ]
