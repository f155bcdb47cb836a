"""The import pauses Python's cyclic garbage collector and always turns it back on
(session_tui/data/collector.py): a collector left off would let a long TUI session
grow without bound."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_tui.data.collector import collector_paused
from session_tui.data.csvio import ImportCancelled, import_csv
from session_tui.data.csvio.verdicts import Progress
from session_tui.data.db import Database


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def write_rows(path: Path, n: int) -> Path:
    lines = ["email,first_name,last_name"] + [f"p{i}@example.com,Pat,Lee{i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_collector_is_off_during_an_import_and_on_after(
    sqlite_db: Database, tmp_path: Path
) -> None:
    seen: list[bool] = []

    def progress(_: Progress) -> None:
        seen.append(gc.isenabled())

    report = import_csv(
        sqlite_db, write_rows(tmp_path / "a.csv", 250), progress=progress, batch_size=100
    )
    assert report.added == 250
    assert seen and not any(seen)
    assert gc.isenabled()


def test_a_cancelled_import_turns_the_collector_back_on(
    sqlite_db: Database, tmp_path: Path
) -> None:
    with pytest.raises(ImportCancelled):
        import_csv(
            sqlite_db, write_rows(tmp_path / "a.csv", 250), cancel=lambda: True, batch_size=100
        )
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads_end_with_the_collector_on() -> None:
    first_in = threading.Event()
    second_done = threading.Event()

    def second() -> None:
        first_in.wait()
        with collector_paused():
            pass
        second_done.set()

    t = threading.Thread(target=second)
    t.start()
    with collector_paused():
        first_in.set()
        second_done.wait(10)
        assert not gc.isenabled()  # the second pause ended first: still off
    t.join(10)
    assert gc.isenabled()
