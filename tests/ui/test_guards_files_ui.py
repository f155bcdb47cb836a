"""Issue 13 in the app: `x` never writes onto the open database (item 1); `i`
refuses a FIFO at once and the app still quits (item 7); `y` refuses a file that
changed after its preview (item 8); the rejects file is never the input (item 1)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import select
from textual.widgets import Static

from session_tui.data.db import Database
from session_tui.data.tables import contact_t
from session_tui.ui.modals.export_csv import ExportCsvModal
from session_tui.ui.modals.import_csv import ImportCsvModal
from session_tui.ui.widgets.path_input import PathInput
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    make_test_app,
    seed,
    settle,
    wait_until,
)
from tests.ui.test_csv_ui import SIZE, open_import


def emails(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(select(contact_t.c.email)).scalars())


def text_of(modal: Any, selector: str) -> str:
    return str(modal.query_one(selector, Static).render())


async def test_export_onto_the_open_database_is_refused(
    sqlite_db: Database, tmp_path: Path
) -> None:
    seed(sqlite_db, [Person("a@example.com", "Ann", "Lee")])
    live = tmp_path / "test.db"
    before = live.read_bytes()
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportCsvModal))
        modal = app.screen
        modal.query_one("#export-path", PathInput).value = str(live)
        await pilot.press("enter")
        await pilot.press("enter")  # no "press enter again to replace": refused outright
        await pilot.pause()
        message = text_of(modal, "#export-message")
        assert "is the open database" in message and "replace" not in message
        assert app.screen is modal and not modal._busy
    assert live.read_bytes()[:16] == before[:16] == b"SQLite format 3\x00"
    assert emails(sqlite_db) == {"a@example.com"}


async def test_import_of_a_fifo_is_refused_and_the_app_still_quits(
    sqlite_db: Database, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # nobody ever writes to it
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, str(fifo))
        await wait_until(pilot, lambda: "FIFO" in text_of(modal, "#import-message"))
        assert modal.stage == "choose" and not modal._busy
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportCsvModal))
        await pilot.press("ctrl+q")
    assert app.return_code in (0, None)


async def test_y_refuses_a_file_rewritten_after_the_preview(
    sqlite_db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "f.csv"
    source.write_text("email\na@example.com\nb@example.com\n", encoding="utf-8")
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, str(source))
        assert modal.stage == "preview" and modal.report is not None
        assert modal.report.added == 2
        source.write_text(
            "email\n" + "".join(f"m{i}@example.com\n" for i in range(1000)), encoding="utf-8"
        )
        modal.set_focus(None)
        await pilot.press("y")
        await wait_until(
            pilot, lambda: "changed since the preview" in text_of(modal, "#import-message")
        )
        assert modal.stage == "preview"
    assert emails(sqlite_db) == set()


async def test_the_rejects_file_cannot_be_the_input(sqlite_db: Database, tmp_path: Path) -> None:
    source = tmp_path / "f.csv"
    source.write_text("email\nnot-an-email\nok@example.com\n", encoding="utf-8")
    before = source.read_bytes()
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, str(source))
        modal.set_focus(None)
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
        modal.query_one("#import-rejects-path", PathInput).value = str(source)
        modal.query_one("#import-write-rejects").press()
        await pilot.pause()
        await pilot.pause()
        message = text_of(modal, "#import-rejects-message")
        assert "the file being imported" in message
    assert source.read_bytes() == before
    assert emails(sqlite_db) == {"ok@example.com"}
