"""The import dialog imports from its preview's stage (csvio/import_stage.py): `y`
does not read the CSV again; previewing again replaces the stage; closing the
dialog deletes it. Every test asserts on the database or the temp directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from session_tui.data.csvio import importer
from session_tui.data.db import Database
from session_tui.ui.modals.import_csv import ImportCsvModal
from session_tui.ui.widgets.path_input import PathInput
from tests.test_import_stage import spools, temp_dir_of_test
from tests.ui.contacts_helpers import make_test_app, wait_until
from tests.ui.test_csv_ui import SIZE, emails, open_import

FIXTURES = Path(__file__).parent.parent / "fixtures" / "csv"


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(FIXTURES / "verdicts.csv", tmp_path / "verdicts.csv")
    monkeypatch.chdir(tmp_path)
    return temp_dir_of_test(tmp_path, monkeypatch)


async def test_y_imports_from_the_preview_without_reading_the_file(
    sqlite_db: Database, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, "verdicts.csv")
        assert modal.stage == "preview"
        [spool] = spools(spool_dir)

        class Refused:
            def __init__(self, *args: object) -> None:
                raise AssertionError("the import read the CSV file again")

        monkeypatch.setattr(importer, "RowSource", Refused)
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
        added = {"new1@example.com", "new2@example.com", "new3@example.com", "exists@example.com"}
        assert emails(sqlite_db) == added
        assert not spool.exists()
        await pilot.press("escape")


async def test_a_new_preview_replaces_the_stage_and_closing_deletes_it(
    sqlite_db: Database, spool_dir: Path
) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_import(pilot, "verdicts.csv")
        [first] = spools(spool_dir)
        modal.query_one("#import-path", PathInput).value = "verdicts.csv"
        modal.query_one("#import-path", PathInput).focus()
        await pilot.press("enter")  # preview the file again
        await wait_until(pilot, lambda: spools(spool_dir) != [first] and not modal._busy)
        assert len(spools(spool_dir)) == 1 and not first.exists()
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportCsvModal))
        assert spools(spool_dir) == []
    assert emails(sqlite_db) == set()
