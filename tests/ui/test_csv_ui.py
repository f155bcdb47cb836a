"""Import (`i`) and export (`x`) on the Contacts screen, driven with Pilot, plus
snapshots of the import preview and summary. Every test asserts on the database
or the written file."""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Static

from session_tui.data.csvio import importer
from session_tui.data.db import Database
from session_tui.data.tables import contact_t
from session_tui.ui.modals.export_csv import ExportCsvModal
from session_tui.ui.modals.import_csv import ImportCsvModal
from session_tui.ui.modals.import_csv import modal as import_modal
from session_tui.ui.widgets.path_input import PathInput, complete_path
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    make_test_app,
    numbered_people,
    seed,
    settle,
    wait_until,
)

SIZE = (120, 40)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "csv"


def emails(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(select(contact_t.c.email)).scalars())


def text_of(modal: Any, selector: str) -> str:
    return str(modal.query_one(selector, Static).render())


async def open_import(pilot: Pilot[Any], path: str) -> ImportCsvModal:
    app = pilot.app
    await settle(pilot, contacts_screen(app).table)  # type: ignore[arg-type]
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, ImportCsvModal))
    modal = app.screen
    assert isinstance(modal, ImportCsvModal)
    modal.query_one("#import-path", PathInput).value = path
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: (
            modal.stage != "choose" and not modal._busy or bool(text_of(modal, "#import-message"))
        ),
    )
    await pilot.pause()
    return modal


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(FIXTURES / "verdicts.csv", tmp_path / "verdicts.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_import_flow_preview_confirm_summary_rejects(
    sqlite_db: Database, in_tmp: Path
) -> None:
    seed(sqlite_db, [Person("exists@example.com", "Old", "Name")])
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, "verdicts.csv")
        assert modal.stage == "preview" and modal.report is not None
        assert emails(sqlite_db) == {"exists@example.com"}  # the preview wrote nothing
        counts = text_of(modal, "#import-counts")
        assert "New 3" in counts and "Already exist (skipped) 2" in counts
        assert "Repeated in the file 1" in counts and "Invalid 3" in counts
        fmt = text_of(modal, "#import-format")
        assert 'email = "email"' in fmt and "UTF-8, comma-separated" in fmt
        table = modal.query_one("#import-rows", DataTable)
        assert table.row_count == 9
        row = table.get_row_at(5)  # line 7: markup and an escape sequence, shown literally
        assert [str(c) for c in row[:4]] == [
            "7",
            "new",
            "new2@example.com",
            "[bold]Markup[/bold] [31mRed",
        ]
        invalid = table.get_row_at(6)
        assert str(invalid[1]) == "invalid" and "200 characters" in str(invalid[4])

        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
        assert emails(sqlite_db) == {
            "exists@example.com",
            "new1@example.com",
            "new2@example.com",
            "new3@example.com",
        }
        summary = text_of(modal, "#import-summary-counts")
        assert "Added 3" in summary and "Invalid 3" in summary and "(9 data rows)" in summary
        rejects_box = modal.query_one("#import-rejects-path", PathInput)
        assert rejects_box.value == "verdicts-rejects.csv"
        await pilot.press("enter")  # the "Write rejects file" button has the focus
        await wait_until(
            pilot, lambda: "Wrote 3 rejected rows" in text_of(modal, "#import-rejects-message")
        )
        rows = list(csv.reader((in_tmp / "verdicts-rejects.csv").open(encoding="utf-8")))
        assert rows[0] == ["email", "first_name", "last_name", "reason"] and len(rows) == 4

        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportCsvModal))
        table_widget = contacts_screen(app).table
        await wait_until(pilot, lambda: table_widget.count == 4)


async def test_escape_at_preview_writes_nothing(sqlite_db: Database, in_tmp: Path) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, "verdicts.csv")
        assert modal.stage == "preview"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportCsvModal))
        await pilot.pause(0.1)
    assert emails(sqlite_db) == set()


async def test_files_that_cannot_be_read_show_a_message(sqlite_db: Database) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, str(FIXTURES / "binary.png"))
        assert modal.stage == "choose"
        assert "not a CSV file" in text_of(modal, "#import-message")
        modal.query_one("#import-path", PathInput).value = str(FIXTURES / "nope.csv")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "no such file" in text_of(modal, "#import-message"))
        modal.query_one("#import-path", PathInput).value = str(FIXTURES / "header-only.csv")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "nothing to import" in text_of(modal, "#import-message"))
        await pilot.press("y")  # nothing new: y does nothing
        await pilot.pause()
        assert modal.stage == "preview"
        await pilot.press("escape")
    assert emails(sqlite_db) == set()


async def test_cancel_during_the_import_writes_nothing(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.csv"
    path.write_text(
        "email\n" + "".join(f"m{i}@example.com\n" for i in range(200)), encoding="utf-8"
    )
    real = importer.import_csv
    app = make_test_app(sqlite_db)
    seen: list[str] = []

    def slow_import(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("dry_run"):
            return real(*args, **kwargs)
        progress = kwargs["progress"]

        def slow_progress(p: Any) -> None:
            progress(p)
            seen.append(app.call_from_thread(lambda: text_of(app.screen, "#import-progress-text")))
            if len(seen) == 3:  # the user presses escape in the middle of the import
                app.call_from_thread(app.simulate_key, "escape")
            time.sleep(0.01)

        return real(*args, **{**kwargs, "progress": slow_progress, "batch_size": 5})

    monkeypatch.setattr(import_modal, "import_csv", slow_import)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, str(path))
        assert modal.report is not None and modal.report.added == 200
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "preview" and not modal._busy)
        assert "Import cancelled: nothing was imported." in text_of(modal, "#import-message")
        assert seen[0].startswith("Importing… 5 rows")
        assert len(seen) < 40  # it stopped early
    assert emails(sqlite_db) == set()


async def test_escape_during_a_long_preview_closes_at_once(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.csv"
    path.write_text(
        "email\n" + "".join(f"m{i}@example.com\n" for i in range(200)), encoding="utf-8"
    )
    real = importer.import_csv
    app = make_test_app(sqlite_db)
    calls: list[int] = []

    def slow_preview(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]

        def slow_progress(p: Any) -> None:
            progress(p)
            calls.append(p.rows)
            if len(calls) == 2:  # the user gives up while the preview runs
                app.call_from_thread(app.simulate_key, "escape")
                time.sleep(0.2)  # the dialog is gone before the next progress report
            time.sleep(0.01)

        try:
            return real(*args, **{**kwargs, "progress": slow_progress, "batch_size": 5})
        finally:
            finished.append(True)

    finished: list[bool] = []
    monkeypatch.setattr(import_modal, "import_csv", slow_preview)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportCsvModal))
        app.screen.query_one("#import-path", PathInput).value = str(path)
        # (not pilot.press: it would wait for the dialog that escape closes meanwhile)
        app.simulate_key("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportCsvModal))
        await wait_until(pilot, lambda: bool(finished))  # the dry run's thread ended
        assert app.is_running and len(calls) < 40  # the dry run stopped early
        await pilot.press("i")  # and the app is still usable
        await wait_until(pilot, lambda: isinstance(app.screen, ImportCsvModal))
    assert emails(sqlite_db) == set()


async def test_export_selection_and_current_search(sqlite_db: Database, tmp_path: Path) -> None:
    seed(sqlite_db, numbered_people(8))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("space", "space")
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportCsvModal))
        modal = app.screen
        assert isinstance(modal, ExportCsvModal)
        assert "the 2 selected contacts" in str(modal.query_one("#export-title").render())
        assert modal.query_one("#export-path", PathInput).value.startswith("contacts-")
        target = tmp_path / "sel.csv"
        modal.query_one("#export-path", PathInput).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportCsvModal))
        rows = list(csv.DictReader(target.open(encoding="utf-8")))
        assert [r["email"] for r in rows] == ["p0000@example.com", "p0001@example.com"]

        await pilot.press("escape")  # clear the selection
        await pilot.press("slash", "0", "0", "0", "7", "enter")
        await wait_until(pilot, lambda: table.count == 1)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportCsvModal))
        modal = app.screen
        assert isinstance(modal, ExportCsvModal)
        assert "1 contact of the current search" in str(modal.query_one("#export-title").render())
        modal.query_one("#export-path", PathInput).value = str(target)
        await pilot.press("enter")  # exists: asks first
        await pilot.pause()
        assert "press enter again" in text_of(modal, "#export-message")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportCsvModal))
        rows = list(csv.DictReader(target.open(encoding="utf-8")))
        assert [r["email"] for r in rows] == ["p0007@example.com"]


async def test_export_escape_writes_nothing(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_db, numbered_people(3))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportCsvModal))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportCsvModal))
    assert list(cwd.iterdir()) == []


def test_path_completion(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text("email\n")
    (tmp_path / "contacts.json").write_text("{}")
    (tmp_path / "cooking").mkdir()
    (tmp_path / ".hidden.csv").write_text("")
    base = str(tmp_path)
    assert complete_path(base + "/con", {".csv"}) == base + "/contacts.csv"
    assert complete_path(base + "/coo", {".csv"}) == base + "/cooking/"
    assert complete_path(base + "/contacts.j", {".csv"}) is None
    assert complete_path(base + "/.h", {".csv"}) == base + "/.hidden.csv"
    assert complete_path(base + "/nothing", {".csv"}) is None
    assert complete_path(base + "/no-dir/x", {".csv"}) is None


async def test_tab_accepts_the_completion(sqlite_db: Database, in_tmp: Path) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportCsvModal))
        await pilot.press("v", "e", "r")
        box = app.screen.query_one("#import-path", PathInput)
        await wait_until(pilot, lambda: box.completion == "verdicts.csv")
        await pilot.press("tab")
        assert box.value == "verdicts.csv"


# -- snapshots ------------------------------------------------------------------------------


def _snap_app(db: Database, confirm: bool) -> tuple[Any, Any]:
    seed(db, [Person("exists@example.com", "Old", "Name")])
    app = make_test_app(db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        modal = await open_import(pilot, "verdicts.csv")
        if confirm:
            await pilot.press("y")
            await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
        else:  # under load the picture could be taken before the button's new label
            button = modal.query_one("#import-confirm", Button)
            await wait_until(pilot, lambda: button.size.width >= len(str(button.label)))
        await pilot.pause()

    return app, run_before


def test_snapshot_import_preview(snap_compare: Any, sqlite_db: Database, in_tmp: Path) -> None:
    app, run_before = _snap_app(sqlite_db, confirm=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_import_summary(snap_compare: Any, sqlite_db: Database, in_tmp: Path) -> None:
    app, run_before = _snap_app(sqlite_db, confirm=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
