"""The export against its floor: the `sqlite3` shell writing the same query as CSV.

`export_floor`: `export_csv` of every contact of the large dataset (in this process,
the file written and committed as the app does), against `sqlite3 -csv -header` of
the exporter's own cell query (`raw.export_baseline_sql`; the `memberships` JSON
column included) writing to a file, a subprocess timed from spawn to exit. The two
run alternately (shell, project, shell, project, ...) and the medians are compared.
Target: at most 2x. Where the shell (Debian package `sqlite3`) is missing, the figure
is skipped with that reason.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from session_tui.bench.context import Context, NotBuilt
from session_tui.bench.raw import export_baseline_sql
from session_tui.bench.report import Figure, median

FIGURE = "export_floor"


def shell_export(shell: str, db_path: Path, sql: str, out_path: Path) -> float:
    """Seconds for `sqlite3 -csv -header DB < SQL > OUT`, from spawn to exit."""
    started = time.perf_counter()
    with open(out_path, "wb") as out:
        proc = subprocess.run(
            [shell, "-csv", "-header", str(db_path)],
            input=sql.encode("utf-8"),
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=1800,
            check=False,
        )
    seconds = time.perf_counter() - started
    if proc.returncode != 0 or proc.stderr.strip():
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise RuntimeError(f"sqlite3 shell failed: {message}")
    return seconds


def figure_export_floor(ctx: Context) -> list[Figure]:
    shell = shutil.which("sqlite3")
    if shell is None:
        return [Figure(FIGURE, skip="no sqlite3 shell on PATH (Debian package sqlite3)")]
    try:
        from session_tui.data.csvio.exporter import export_csv
    except ImportError as exc:
        raise NotBuilt from exc
    from session_tui.data.db import open_database

    ds = ctx.dataset(ctx.large)
    sql = export_baseline_sql(ds.url) + ";\n"
    shell_out = ctx.scratch_dir / "export-floor-shell.csv"
    project_out = ctx.scratch_dir / "export-floor-project.csv"
    db = open_database(ds.url)
    times: dict[str, list[float]] = {"shell": [], "project": []}
    written = 0

    def project() -> float:
        nonlocal written
        started = time.perf_counter()
        written = export_csv(db, project_out)
        return time.perf_counter() - started

    try:
        for _ in range(3 if ctx.rounds > 1 else 2):
            times["shell"].append(shell_export(shell, ds.path, sql, shell_out))
            times["project"].append(project())
            ctx.log(
                f"export floor: shell {times['shell'][-1]:.2f}s, "
                f"export_csv {times['project'][-1]:.2f}s"
            )
    finally:
        db.dispose()
        for path in (shell_out, project_out):
            path.unlink(missing_ok=True)
    if written != ctx.large:
        raise AssertionError(f"export_csv wrote {written} contacts, expected {ctx.large}")
    return [Figure(FIGURE, median(times["project"]), median(times["shell"]), "s", max_ratio=2.0)]
