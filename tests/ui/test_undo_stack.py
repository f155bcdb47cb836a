"""The app's undo stack (ui/undo.py): what `u` undoes survives a visit to another
screen, and the filter panel hands its work to the screen as messages."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button

from session_tui.data.db import Database
from session_tui.data.deletion import DeleteResult
from session_tui.data.filters import parse
from session_tui.data.repositories.segments import SegmentsRepository
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.segment_name import SegmentNameModal
from session_tui.ui.undo import Deletion, Undoable, UndoStack
from session_tui.ui.widgets.filter_panel import FilterPanel, panel_of
from tests.ui.contacts_helpers import (
    contacts_screen,
    make_test_app,
    numbered_people,
    seed,
    settle,
    wait_until,
)


def _deletion(n: int) -> Deletion:
    return Deletion(DeleteResult(Path(f"/b/{n}.jsonl"), n, 0, 0), was_selection=False)


def test_the_stack_undoes_the_newest_first() -> None:
    stack = UndoStack()
    assert stack.peek() is None and len(stack) == 0 and not stack.busy
    first, second = _deletion(1), _deletion(3)
    stack.push(first)
    stack.push(second)
    assert stack.peek() is second and list(stack) == [first, second]
    stack.discard(first)  # not the newest: kept
    assert len(stack) == 2
    stack.discard(second)
    assert stack.peek() is first
    assert isinstance(first, Undoable)
    assert first.describe() == "restores 1 contact"
    assert second.describe() == "restores 3 contacts"


async def test_a_deletion_can_be_undone_after_visiting_another_screen(
    sqlite_db: Database,
) -> None:
    seed(sqlite_db, numbered_people(4))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and not app.undo.busy)
        assert table.count == 3
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("c")
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("u")
        await wait_until(pilot, lambda: len(app.undo) == 0 and not app.undo.busy)
        await settle(pilot, table)
        assert table.count == 4


async def test_the_panel_buttons_ask_the_screen(sqlite_db: Database) -> None:
    """Rename and Delete stay disabled until a segment is chosen; pressed, the screen
    opens the dialog and renames the segment."""
    seed(sqlite_db, numbered_people(3))
    SegmentsRepository(sqlite_db).save("Old", parse("status:active"))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)
        await pilot.press("f")
        await wait_until(pilot, lambda: panel_of(screen) is not None)
        panel = panel_of(screen)
        assert isinstance(panel, FilterPanel)
        await wait_until(pilot, lambda: "Old" in panel.segments)
        rename = panel.query_one("#segment-rename", Button)
        assert rename.disabled
        panel.select_segment("Old")
        await pilot.pause()
        assert not rename.disabled
        rename.press()
        await wait_until(pilot, lambda: isinstance(app.screen, SegmentNameModal))
        await pilot.press("end", "ctrl+u", "N", "e", "w", "enter")
        await wait_until(pilot, lambda: "New" in panel.segments)
        assert panel.segment == "New"
        assert [s.name for s in SegmentsRepository(sqlite_db).all()] == ["New"]
