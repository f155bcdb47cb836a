"""Delete (confirm, progress), undo and edit on the Contacts screen, driven with Pilot.

Every test asserts on the database: rows gone, rows back identically, nothing
written on cancel, on each invalid edit and on a version conflict.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Button, Input, Static

from session_tui import locations
from session_tui.data.db import Database
from session_tui.data.editing import update_contact
from session_tui.data.tables import contact_t, event_t, membership_t
from session_tui.ui.app import SessionApp
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.edit_contact import EditContactModal
from session_tui.ui.modals.progress import ProgressModal
from session_tui.ui.screens import contact_actions
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


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (contact_t, membership_t, event_t)
        }


def emails(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(contact_t.c.email).order_by(contact_t.c.email)).scalars())


def seed_with_history(db: Database, n: int = 6) -> list[int]:
    ids = seed(db, numbered_people(n))
    with db.engine.begin() as conn:
        for m in conn.execute(select(membership_t.c.id, membership_t.c.started_at)).all():
            conn.execute(
                event_t.insert().values(
                    membership_id=m.id,
                    at=m.started_at,
                    kind="granted",
                    detail="paid",
                    actor="tester",
                )
            )
    return ids


async def start(app: SessionApp, pilot: Any) -> Any:
    table = contacts_screen(app).table
    await settle(pilot, table)
    return table


def no_worker_busy(app: SessionApp) -> bool:
    return not contact_actions._state(app).busy


async def confirm_shown(pilot: Any, app: SessionApp) -> ConfirmModal:
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    await pilot.pause()
    assert isinstance(app.screen, ConfirmModal)
    return app.screen


def modal_text(modal: Any) -> str:
    return "\n".join(str(s.render()) for s in modal.query(Static))


# -- delete -------------------------------------------------------------------------------


async def test_delete_current_with_y_then_undo_restores_identically(db: Database) -> None:
    seed_with_history(db)
    before = snapshot(db)
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await pilot.press("j")  # p0001, who has a membership with history
        assert table.current_row is not None
        target = table.current_row.email
        await pilot.press("d")
        modal = await confirm_shown(pilot, app)
        text = modal_text(modal)
        assert "First0001 Last0001" in text and target in text
        assert "memberships" in text and "permanent" in text and "press u" in text.lower()
        await pilot.press("y")
        await wait_until(pilot, lambda: no_worker_busy(app) and target not in emails(db))
        await settle(pilot, table)
        assert len(emails(db)) == 5
        assert table.count == 5
        with db.engine.connect() as conn:
            assert conn.execute(select(membership_t)).all() != before["membership"]
        assert any(
            "press" in str(n.message) and "undo" in str(n.message) for n in app._notifications
        )
        backups = list(locations.backups_dir().glob("deleted-*.jsonl.gz"))
        assert len(backups) == 1

        await pilot.press("u")
        await wait_until(pilot, lambda: no_worker_busy(app) and target in emails(db))
        await settle(pilot, table)
        assert snapshot(db) == before
        assert table.count == 6


async def test_delete_selected_deletes_exactly_the_shown_ids(db: Database) -> None:
    seed_with_history(db)
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await pilot.press("space", "j", "space")  # p0000 and p0002
        await settle(pilot, table)
        assert len(table.selected_ids()) == 2
        await pilot.press("delete")
        modal = await confirm_shown(pilot, app)
        assert "Delete 2 contacts?" in str(modal.query_one("#confirm-title").render())
        await pilot.press("y")
        await wait_until(pilot, lambda: no_worker_busy(app) and len(emails(db)) == 4)
        await settle(pilot, table)
        assert "p0000@example.com" not in emails(db) and "p0002@example.com" not in emails(db)
        assert table.selected_ids() == frozenset()

        await pilot.press("u")  # undo brings them back, selected again
        await wait_until(pilot, lambda: no_worker_busy(app) and len(emails(db)) == 6)
        await settle(pilot, table)
        assert len(table.selected_ids()) == 2


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_cancelled_delete_deletes_nothing(sqlite_db: Database, key: str) -> None:
    seed_with_history(sqlite_db)
    before = snapshot(sqlite_db)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await pilot.press("space")
        await pilot.press("d")
        await confirm_shown(pilot, app)
        await pilot.press(key)
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        await pilot.pause(0.1)
        assert no_worker_busy(app)
        assert table.has_focus
        assert len(table.selected_ids()) == 1  # the selection is kept
    assert snapshot(sqlite_db) == before
    assert list(locations.backups_dir().iterdir()) == []


async def test_mouse_clicks_on_the_buttons(sqlite_db: Database) -> None:
    seed_with_history(sqlite_db)
    before = snapshot(sqlite_db)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("d")
        await confirm_shown(pilot, app)
        await pilot.click("#confirm-no")
        await wait_until(pilot, lambda: no_worker_busy(app))
        assert snapshot(sqlite_db) == before
        await pilot.press("d")
        await confirm_shown(pilot, app)
        await pilot.click("#confirm-yes")
        await wait_until(pilot, lambda: no_worker_busy(app) and len(emails(sqlite_db)) == 5)

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
        await pilot.pause()
        await pilot.click("#edit-cancel")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))


async def test_enter_presses_the_focused_button(sqlite_db: Database) -> None:
    seed_with_history(sqlite_db)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("d")
        await confirm_shown(pilot, app)
        await pilot.press("right", "enter")  # to Cancel, then enter
        await wait_until(pilot, lambda: no_worker_busy(app))
        assert len(emails(sqlite_db)) == 6
        await pilot.press("d")
        await confirm_shown(pilot, app)
        await pilot.press("enter")  # the delete button has focus first
        await wait_until(pilot, lambda: no_worker_busy(app) and len(emails(sqlite_db)) == 5)


async def test_large_delete_shows_progress_and_undo(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contact_actions, "PROGRESS_FROM", 10)
    progress: list[tuple[str, int, int]] = []
    original = ProgressModal.report

    def record(self: ProgressModal, done: int, total: int) -> None:
        progress.append((self._title, done, total))  # in the worker thread
        original(self, done, total)

    monkeypatch.setattr(ProgressModal, "report", record)
    seed(sqlite_db, numbered_people(1_200))
    before = snapshot(sqlite_db)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await pilot.press("ctrl+a")
        await settle(pilot, table)
        assert len(table.selected_ids()) == 1_200
        await pilot.press("d")
        modal = await confirm_shown(pilot, app)
        assert "and 1,195 more contacts" in modal_text(modal)
        # above confirm_large_delete_above (default 1,000) the count is typed
        await pilot.press("1", "2", "0", "0", "enter")
        await wait_until(pilot, lambda: no_worker_busy(app), timeout=30)
        assert not isinstance(app.screen, ProgressModal)  # closed when done
        assert emails(sqlite_db) == []
        assert ("Deleting 1,200 contacts", 1_200, 1_200) in progress
        assert [p[1] for p in progress] == [500, 1_000, 1_200]  # one update per chunk
        await pilot.press("u")
        await wait_until(pilot, lambda: no_worker_busy(app), timeout=30)
        assert not isinstance(app.screen, ProgressModal)
        assert ("Restoring 1,200 contacts", 1_200, 1_200) in progress
    assert snapshot(sqlite_db) == before


async def test_undo_with_nothing_to_undo_says_so(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("u")
        await pilot.pause()
        assert any("Nothing to undo" in str(n.message) for n in app._notifications)


async def test_undo_refused_when_the_email_was_taken(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("d")
        await confirm_shown(pilot, app)
        await pilot.press("y")
        await wait_until(pilot, lambda: no_worker_busy(app) and len(emails(sqlite_db)) == 2)
        seed(sqlite_db, [Person("p0000@example.com", "Someone", "Else")])
        before = snapshot(sqlite_db)
        await pilot.press("u")
        await wait_until(
            pilot,
            lambda: any("Undo failed" in str(n.message) for n in app._notifications),
        )
        assert no_worker_busy(app)
        assert snapshot(sqlite_db) == before
        assert contact_actions.undo_available(app) == 1  # still there: fix, then u again


# -- edit ---------------------------------------------------------------------------------


async def open_editor(pilot: Any, app: SessionApp) -> EditContactModal:
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
    await pilot.pause()
    assert isinstance(app.screen, EditContactModal)
    return app.screen


def set_field(modal: EditContactModal, field: str, value: str) -> None:
    modal.query_one(f"#edit-{field}", Input).value = value


async def test_edit_saves_normalised_values(db: Database) -> None:
    seed(db, numbered_people(3))
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        modal = await open_editor(pilot, app)
        assert modal.query_one("#edit-email", Input).value == "p0000@example.com"
        set_field(modal, "first_name", "  Ann ")
        set_field(modal, "last_name", "[bold]O'Brien")
        set_field(modal, "email", " Ann.OBrien@Example.COM ")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))
        await settle(pilot, table)
    with db.engine.connect() as conn:
        row = conn.execute(
            select(contact_t).where(contact_t.c.email == "ann.obrien@example.com")
        ).one()
    assert (row.first_name, row.last_name, row.version) == ("Ann", "[bold]O'Brien", 2)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "", "email is empty"),
        ("email", "not an email", "invalid email"),
        ("first_name", "x" * 201, "longer than 200"),
        ("last_name", "y" * 201, "longer than 200"),
    ],
)
async def test_invalid_edit_writes_nothing(
    sqlite_db: Database, field: str, value: str, message: str
) -> None:
    await check_invalid_edit(sqlite_db, field, value, message)


async def test_taken_email_writes_nothing(db: Database) -> None:
    await check_invalid_edit(db, "email", "P0001@EXAMPLE.com", "another contact already has")


async def check_invalid_edit(db: Database, field: str, value: str, message: str) -> None:
    seed(db, numbered_people(3))
    before = snapshot(db)
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        modal = await open_editor(pilot, app)
        set_field(modal, field, value)
        await pilot.press("ctrl+s")
        error = modal.query_one(f"#{field}-error", Static)
        await wait_until(pilot, lambda: error.display and not modal._busy)
        assert message in str(error.render())
        assert isinstance(app.screen, EditContactModal)  # still open
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))
    assert snapshot(db) == before


async def test_escape_writes_nothing(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(3))
    before = snapshot(sqlite_db)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        modal = await open_editor(pilot, app)
        set_field(modal, "first_name", "Changed")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))
    assert snapshot(sqlite_db) == before


async def test_conflict_when_changed_behind_the_modals_back(db: Database) -> None:
    (first_id, *_rest) = seed(db, numbered_people(3))
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        modal = await open_editor(pilot, app)
        # another user saves first
        update_contact(db, first_id, 1, "Other", "User", "other@example.com")
        before = snapshot(db)
        set_field(modal, "first_name", "Mine")
        await pilot.press("enter")
        conflict = modal.query_one("#conflict")
        await wait_until(pilot, lambda: conflict.display and not modal._busy)
        text = str(modal.query_one("#conflict-text", Static).render())
        assert "Another user changed this contact" in text and "Nothing was saved" in text
        assert "Other" in text and "other@example.com" in text
        assert snapshot(db) == before
        # Reload takes the current version; then the edit can be made again
        await pilot.click("#edit-reload")
        await pilot.pause()
        assert modal.query_one("#edit-email", Input).value == "other@example.com"
        set_field(modal, "first_name", "Mine")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))
        await settle(pilot, table)
    with db.engine.connect() as conn:
        row = conn.execute(select(contact_t).where(contact_t.c.id == first_id)).one()
    assert (row.first_name, row.last_name, row.email, row.version) == (
        "Mine",
        "User",
        "other@example.com",
        3,
    )


async def test_edit_of_a_contact_deleted_behind_the_modals_back(sqlite_db: Database) -> None:
    (first_id, *_rest) = seed(sqlite_db, numbered_people(2))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        modal = await open_editor(pilot, app)
        with sqlite_db.engine.begin() as conn:
            conn.execute(contact_t.delete().where(contact_t.c.id == first_id))
        set_field(modal, "first_name", "Mine")
        await pilot.press("enter")
        conflict = modal.query_one("#conflict")
        await wait_until(pilot, lambda: conflict.display and not modal._busy)
        assert "deleted this contact" in str(modal.query_one("#conflict-text", Static).render())
        assert modal.query_one("#edit-save", Button).disabled
        await pilot.press("escape")
    assert emails(sqlite_db) == ["p0001@example.com"]
