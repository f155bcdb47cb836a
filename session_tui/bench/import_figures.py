"""The import figures against the floor: the fastest plain way to load the same
rows into the same schema.

- `import_floor`: `import_csv` of the large dataset's contacts (email, first and
  last name, created_at; one row per contact) into a new, migrated database, vs
  the floor on another new database of the same schema: stdlib csv -> a staging
  table -> ONE `INSERT OR IGNORE … SELECT` into `contact`, its secondary indexes
  dropped before and built after, the search index filled by one statement (the
  app's own `INDEX_SQL`, with its FTS hashsize). The floor computes the sort key
  and the search text with the app's functions: the schema holds them. Measured
  in rounds whose order turns (three in a full run), medians. Target ≤ 1.3×.
- `import_preview_plus_import`: what the TUI runs before and after `y` -- one
  `sniff`, `preview_csv(..., stage=True)`, then `import_csv` of that layout from the
  preview's stage (import_stage.py: the file is hashed again, not parsed) -- vs
  `import_csv` alone (the CLI path), from the same rounds. Target ≤ 1.2×.
- `import_peak_mb`: peak RSS (VmHWM) of a CLI `session-tui import FILE` in a fresh
  process, vs a process that loads the CLI and imports nothing. Target < 250 MB.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from session_tui.bench.context import Context, NotBuilt
from session_tui.bench.datasets import remove_db_files, write_cached
from session_tui.bench.raw import now_text, raw_connect
from session_tui.bench.report import Figure, median

IMPORT_FIGURES = ("import_floor", "import_preview_plus_import", "import_peak_mb")
_HEADER = ("email", "first_name", "last_name", "created_at")


def contacts_file(ctx: Context) -> Path:
    """The large dataset's contacts as a CSV (written once per dataset)."""
    ds = ctx.dataset(ctx.large)
    path = ctx.scratch_dir / f"contacts-plain-{ctx.large}-seed{ctx.seed}.csv"
    if path.exists() and path.stat().st_mtime >= ds.path.stat().st_mtime:
        return path
    write_cached(path, lambda part: _write_contacts(ds.path, part))
    return path


def _write_contacts(db_path: Path, path: Path) -> None:
    conn = raw_connect(db_path)
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(_HEADER)
            cursor = conn.execute(
                "SELECT email, first_name, last_name, created_at FROM contact ORDER BY id"
            )
            while rows := cursor.fetchmany(5000):
                writer.writerows(rows)
    finally:
        conn.close()


def new_database(path: Path) -> str:
    """An empty, migrated database; its URL."""
    from session_tui.data.db import open_database

    remove_db_files(path)
    open_database(f"sqlite:///{path}").dispose()
    return f"sqlite:///{path}"


def floor_import(csv_path: Path, db_path: Path) -> int:
    """stdlib csv -> staging table -> INSERT … SELECT, indexes and FTS after."""
    from session_tui.data.collation import name_key, search_text
    from session_tui.data.sqlite_bulk import FTS_HASHSIZE, INDEX_SQL, INSERT, LOAD_CACHE_KIB

    now = now_text()

    def rows() -> object:
        with open(csv_path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for e, f, la, c in reader:
                e, f, la = e.strip().lower(), f.strip(), la.strip()
                yield e, f, la, c or now, name_key(f, la), search_text(f, la, e)

    conn = raw_connect(db_path)
    try:
        conn.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        conn.execute("BEGIN IMMEDIATE")
        indexes = [
            (name, sql)
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'contact' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
            )
        ]
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        trigger = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (INSERT,)
        ).fetchone()[0]
        conn.execute(f"DROP TRIGGER {INSERT}")
        conn.execute("CREATE TEMP TABLE stage (e, f, l, c, k, s)")
        conn.executemany("INSERT INTO stage VALUES (?, ?, ?, ?, ?, ?)", rows())  # type: ignore[arg-type]
        added = conn.execute(
            "INSERT OR IGNORE INTO contact (email, first_name, last_name, created_at, "
            "updated_at, version, name_key, search_text) "
            "SELECT e, f, l, c, ?, 1, k, s FROM stage ORDER BY rowid",
            (now,),
        ).rowcount
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute(
            "INSERT INTO contact_fts(contact_fts, rank) VALUES ('hashsize', ?)", (FTS_HASHSIZE,)
        )
        conn.execute(INDEX_SQL.format(where="id >= 1"))
        conn.execute(
            "INSERT INTO contact_fts(contact_fts, rank) VALUES ('hashsize', ?)", (1 << 20,)
        )
        conn.execute(trigger)
        conn.execute("DROP TABLE stage")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return int(added)


def _peak_mb(ctx: Context, code: str) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**_env(ctx)},
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"import probe failed: {tail}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"])


def _env(ctx: Context) -> dict[str, str]:
    import os

    return {**os.environ, "SESSION_TUI_DATA_DIR": str(ctx.workdir / "data")}


_PROBE = """
import json, sys
from session_tui.cli import main
from session_tui.bench.memprobe import peak_rss_kib
code = main({argv!r}) if {argv!r} else 0
print(json.dumps({{"code": code, "peak_mb": round(peak_rss_kib() / 1024, 1)}}))
sys.exit(0 if code in (0, None) else 1)
"""


def figure_import_floor(ctx: Context) -> list[Figure]:
    try:
        from session_tui.data.csvio.importer import import_csv, preview_csv
    except ImportError as exc:
        raise NotBuilt from exc
    from session_tui.data.csvio.reader import sniff
    from session_tui.data.db import open_database

    source = contacts_file(ctx)
    floor_path = ctx.scratch_dir / "import-floor.db"
    proj_path = ctx.scratch_dir / "import-project.db"
    times: dict[str, list[float]] = {"floor": [], "import": [], "preview+import": []}
    counts: set[int] = set()

    def project(with_preview: bool) -> float:
        """One import (after its preview) into a new database, timed without the
        database's creation."""
        db = open_database(new_database(proj_path))
        label = "preview + import" if with_preview else "import project"

        def run() -> None:
            if not with_preview:
                counts.add(import_csv(db, sniff(source)).added)
                return
            layout = sniff(source)
            preview = preview_csv(db, layout, stage=True)
            counts.add(preview.added)
            staged = preview.staged
            if staged is None:
                raise AssertionError("the preview kept no stage")
            totals: set[int] = set()  # progress counts the bytes of what was read
            report = import_csv(db, layout, staged=staged, progress=lambda p: totals.add(p.total))
            if totals != {staged.size}:
                raise AssertionError("the import did not read the preview's stage")
            counts.add(report.added)

        try:
            return ctx.timed(label, run)
        finally:
            db.dispose()

    def floor() -> float:
        new_database(floor_path)
        return ctx.timed("import floor", lambda: counts.add(floor_import(source, floor_path)))

    sides: list[tuple[str, Callable[[], float]]] = [
        ("floor", floor),
        ("import", lambda: project(False)),
        ("preview+import", lambda: project(True)),
    ]
    # Three rounds in a full run (a true median: one slow round moves nothing), two
    # with --quick, one in a smoke run. The order turns each round (floor, import,
    # preview; import, preview, floor; ...), so that no side always runs last, on a
    # machine that got busier meanwhile.
    for i in range(1 if ctx.smoke else 3 if ctx.rounds > 1 else 2):
        for name, side in sides[i % 3 :] + sides[: i % 3]:
            times[name].append(side())
    peak = _peak_mb(
        ctx, _PROBE.format(argv=["import", str(source), "--db", new_database(proj_path)])
    )
    bare = _peak_mb(ctx, _PROBE.format(argv=[]))
    ctx.log(f"import peak {peak:.1f}MB, the CLI loaded alone {bare:.1f}MB")
    for path in (floor_path, proj_path):
        remove_db_files(path)
    if counts != {ctx.large}:
        raise AssertionError(f"expected {ctx.large} contacts added each time, got {sorted(counts)}")
    one = median(times["import"])
    return [
        Figure("import_floor", one, median(times["floor"]), "s", max_ratio=1.3),
        Figure(
            "import_preview_plus_import", median(times["preview+import"]), one, "s", max_ratio=1.2
        ),
        # The target is the bound; the ratio to a bare CLI process only shows scale.
        Figure("import_peak_mb", peak, bare, "MB", max_ratio=25.0, max_value=250.0),
    ]
