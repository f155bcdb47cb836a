"""`x` proposes `contacts-YYYY-MM-DD.csv` in the folder the app was started from: the
dialog says which folder before anything is written, the toast names the file
written in full, and a folder that no longer exists or a name the system rejects is
a message in the dialog, never a traceback (docs/decisions.md, "Export: where the
file goes")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from session_tui.data.db import Database
from session_tui.ui.modals.export_csv import ExportCsvModal
from session_tui.ui.widgets.path_input import PathInput
from tests.ui import contacts_helpers as ch
from tests.ui.actions_helpers import messages
from tests.ui.test_csv_ui import SIZE, text_of


async def open_export(pilot: Any) -> ExportCsvModal:
    app = pilot.app
    await ch.settle(pilot, ch.contacts_screen(app).table)
    await pilot.press("x")
    await ch.wait_until(pilot, lambda: isinstance(app.screen, ExportCsvModal))
    modal = app.screen
    assert isinstance(modal, ExportCsvModal)
    return modal


def start_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`folder`, made, as the current folder (the app's start folder)."""
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def test_the_dialog_and_the_toast_say_where_the_file_goes(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch.seed(sqlite_db, ch.numbered_people(3))
    monkeypatch.setenv("HOME", str(tmp_path))
    started_in = start_in(tmp_path / "started-here", monkeypatch)
    app = ch.make_test_app(sqlite_db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        modal = await open_export(pilot)
        name = modal.query_one("#export-path", PathInput).value
        assert name.startswith("contacts-") and "/" not in name
        assert text_of(modal, "#export-message") == (
            "Saved in ~/started-here unless you type another folder."
        )
        await pilot.press("enter")
        await ch.wait_until(pilot, lambda: not isinstance(app.screen, ExportCsvModal))
        await ch.wait_until(pilot, lambda: any("Exported" in m for m in messages(app)))
        assert f"Exported 3 contacts to ~/started-here/{name}" in messages(app)
    assert (started_in / name).is_file()


async def test_a_start_folder_that_is_gone_is_a_message(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch.seed(sqlite_db, ch.numbered_people(2))
    gone = start_in(tmp_path / "gone", monkeypatch)
    app = ch.make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        os.rmdir(gone)  # e.g. a folder removed while the app runs
        modal = await open_export(pilot)
        assert "the app was started in no longer exists" in text_of(modal, "#export-message")
        await pilot.press("enter")
        await pilot.pause()
        message = text_of(modal, "#export-message")
        assert message.startswith("Not exported: the folder the app was started in no longer")
        assert "type a full path" in message
        assert app.screen is modal and not modal._busy
        target = tmp_path / "here.csv"
        modal.query_one("#export-path", PathInput).value = str(target)
        await pilot.press("enter")
        await ch.wait_until(pilot, lambda: not isinstance(app.screen, ExportCsvModal))
    assert target.is_file()


async def test_a_name_the_system_rejects_is_a_message(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name longer than the file system allows: checking it raised OSError
    (ENAMETOOLONG), which ended the app with a traceback."""
    ch.seed(sqlite_db, ch.numbered_people(2))
    monkeypatch.chdir(tmp_path)
    app = ch.make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_export(pilot)
        modal.query_one("#export-path", PathInput).value = "x" * 300 + ".csv"
        await pilot.press("enter")
        await pilot.pause()
        message = text_of(modal, "#export-message")
        assert message.startswith("Not exported: cannot use xxx") and "too long" in message
        assert app.is_running and app.screen is modal and not modal._busy
    assert list(tmp_path.glob("*.csv")) == []
