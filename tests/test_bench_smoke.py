"""The benchmark script keeps working: its smallest mode runs end to end and prints
one parseable line per figure plus the summary line. Speed is not asserted here
(that is the benchmark's job, never a unit test's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from session_tui.bench.figures import FIGURES
from session_tui.bench.report import (
    ERROR_LINE,
    FIGURE_LINE,
    SKIP_LINE,
    SUMMARY_LINE,
    Figure,
    p95,
    summary_line,
)

ALL_NAMES = [name for spec in FIGURES for name in spec.names]


def test_figure_lines_have_the_documented_format() -> None:
    ok = Figure("search_median", 0.031, 0.020, "s", max_ratio=3.0, max_value=0.050)
    slow = Figure("export_csv", 12.5, 5.0, "s", max_ratio=1.5)
    memory = Figure("peak_memory", 140.0, 100.0, "MB", max_ratio=1.3)
    skipped = Figure("import_csv", skip="not built yet")
    broken = Figure("delete_selected", error="RuntimeError: boom\nsecond line")
    assert ok.line() == (
        "search_median: 31.0ms baseline=20.0ms ratio=1.55 target=ratio<=3,value<=50.0ms PASS"
    )
    assert slow.line() == "export_csv: 12.50s baseline=5.00s ratio=2.50 target=ratio<=1.5 FAIL"
    assert memory.line().endswith("ratio=1.40 target=ratio<=1.3 FAIL")
    assert skipped.line() == "import_csv: SKIP (not built yet)"
    assert broken.line() == "delete_selected: ERROR (RuntimeError: boom second line) FAIL"
    for figure in (ok, slow, memory):
        assert FIGURE_LINE.match(figure.line())
    assert SKIP_LINE.match(skipped.line()) and ERROR_LINE.match(broken.line())
    # skipped figures are not counted; errors count as missed
    assert summary_line([ok, slow, memory, skipped, broken]) == "1 of 4 targets met"


def test_absolute_bound_fails_even_when_the_ratio_passes() -> None:
    assert not Figure("search_median", 0.080, 0.070, "s", max_ratio=3.0, max_value=0.050).passed


def test_p95_is_the_nearest_rank() -> None:
    assert p95(list(range(1, 21))) == 19
    assert p95([5.0]) == 5.0


@pytest.mark.slow
def test_smallest_mode_runs_and_prints_every_figure(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("SESSION_TUI_DB", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "session_tui.bench",
            "--sizes",
            "100,400",
            "--repeats",  # one measurement per repeated figure: each still runs and prints
            "1",
            "--workdir",
            str(tmp_path / "bench"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,  # a guard against a hang, not a timing (the bench times its figures)
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    *figure_lines, last = lines
    summary = SUMMARY_LINE.match(last)
    assert summary, last
    names, counted, passed = [], 0, 0
    for line in figure_lines:
        assert not ERROR_LINE.match(line), line
        if m := FIGURE_LINE.match(line):
            counted += 1
            passed += m["verdict"] == "PASS"
        else:
            m = SKIP_LINE.match(line)
            assert m, f"unparseable figure line: {line!r}"
        names.append(m["name"])
    assert names == ALL_NAMES
    assert (int(summary["met"]), int(summary["total"])) == (passed, counted)
    # the generated databases are cached in the work directory for the next run
    assert (tmp_path / "bench" / "cache" / "demo-400-seed1.db").exists()
