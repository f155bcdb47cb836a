"""The import's bulk paths: which rows get a RowVerdict, the preview that writes
nothing, load-first-index-after on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from session_tui.data.csvio import Verdict, import_csv
from session_tui.data.csvio import importer as importer_mod
from session_tui.data.db import Database


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["email", "first_name", "last_name"])
        writer.writerows(rows)
    return path


def people(n: int, start: int = 0) -> list[tuple[str, str, str]]:
    return [(f"p{i}@example.com", f"First{i}", f"Last{i}") for i in range(start, start + n)]


def count_verdicts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many RowVerdicts the importer builds (a one-item list, updated)."""
    made = [0]
    real = importer_mod.RowVerdict

    def counting(*args: Any) -> Any:
        made[0] += 1
        return real(*args)

    monkeypatch.setattr(importer_mod, "RowVerdict", counting)
    return made


def test_a_clean_file_builds_verdicts_for_the_sample_only(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = count_verdicts(monkeypatch)
    source = write_csv(tmp_path / "clean.csv", people(95))
    report = import_csv(sqlite_db, source, batch_size=10, sample_rows=15, problem_rows=4)
    assert report.added == 95
    assert [r.line for r in report.rows] == list(range(2, 17))
    assert made[0] == 15


def test_problem_rows_after_the_sample_are_kept_up_to_the_limit(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = count_verdicts(monkeypatch)
    rows = people(60)
    rows[30] = rows[3]  # a repeat (line 32)
    rows[41] = ("not-an-email", "X", "Y")  # invalid (line 43)
    rows[45] = rows[4]  # a repeat (line 47)
    rows[52] = rows[5]  # a repeat, over the limit of problem rows (line 54)
    source = write_csv(tmp_path / "mixed.csv", rows)
    report = import_csv(sqlite_db, source, batch_size=10, sample_rows=5, problem_rows=3)
    assert report.summary() == {"added": 56, "skipped": 0, "duplicates": 3, "invalid": 1}
    assert [(r.line, r.verdict) for r in report.rows[5:]] == [
        (32, Verdict.DUPLICATE),
        (43, Verdict.INVALID),
        (47, Verdict.DUPLICATE),
    ]
    assert made[0] == 5 + 3  # the sample and the kept problem rows, none past the limit
