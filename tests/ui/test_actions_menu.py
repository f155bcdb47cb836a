"""The actions menu on the Contacts screen (`A`), driven with Pilot end to end: each
action with undo, export and delete. Cancelling, refusals, races and the undo stack:
test_actions_menu_races.py.

Every test asserts on the database: what the action wrote (memberships, one history
event per membership with the actor), that undo puts back exactly the state before,
and that nothing is written on escape, on refusal, or before the confirmation.
Grant with undo also runs on PostgreSQL (SESSION_TUI_TEST_POSTGRES).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from textual.widgets import Input, Select

from session_tui.data import clock as clock_mod
from session_tui.data.db import Database
from session_tui.data.tables import contact_t
from session_tui.ui.modals.actions_menu import ActionsMenu
from session_tui.ui.modals.bulk_dialogs import BulkActionDialog
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.export_csv import ExportCsvModal
from session_tui.ui.undo import BulkChange, Deletion
from session_tui.ui.widgets.path_input import PathInput
from tests.ui.actions_helpers import (
    ANN,
    BEN,
    CHLOE,
    COACHING,
    COURSE,
    DMITRI,
    MALLORY,
    SIZE,
    confirm_text,
    contact_ids,
    fill,
    idle,
    membership,
    new_events,
    open_dialog,
    open_menu,
    said,
    snapshot,
    start,
    submit,
    title_of,
    to_row,
    undo,
)
from tests.ui.contacts_helpers import (
    contacts_screen,
    settle,
    wait_until,
)
from tests.ui.memberships_helpers import NOW, make_frozen_app, seed_memberships

# -- each action, end to end, with undo ------------------------------------------------


async def test_grant_to_the_selection_then_undo(db: Database) -> None:
    seed_memberships(db)
    app = make_frozen_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN, BEN, DMITRI)
        menu = await open_menu(pilot, app)
        assert title_of(menu, "#actions-title") == "Actions: 3 selected contacts"
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, BulkActionDialog))
        dialog = app.screen
        assert isinstance(dialog, BulkActionDialog)
        assert "Grant a membership to 3 selected contacts" in title_of(dialog, "#title")
        await wait_until(
            pilot, lambda: dialog.query_one("#product", Select).prompt == "Choose a product"
        )
        await fill(pilot, dialog, COURSE, payment="comped")
        before = snapshot(db)
        confirm = await submit(pilot, app)
        assert confirm_text(confirm) == (
            'Grant "Course: Mindset Reset" (comped, never expires) to 3 contacts: '
            "1 new membership, 2 reactivated, 0 already active"
        )
        assert snapshot(db) == before  # counted, nothing written yet
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))

        for email in (ANN, BEN, DMITRI):
            m = membership(db, email, COURSE)
            assert m is not None and m.payment_type == "comped" and m.expires_at is None
            assert m.cancelled_at is None
        events = new_events(db, before)
        # Ann's passed expiry is stored first (as a single grant does), then one event
        # per membership, with the actor
        kinds = sorted(e.kind for e in events)
        assert kinds == ["expired", "granted", "reactivated", "reactivated"]
        assert {e.actor for e in events if e.kind != "expired"} == {clock_mod.actor()}
        entry = app.undo.peek()
        assert isinstance(entry, BulkChange)
        await said(pilot, app, "to undo the grant of “Course: Mindset Reset” to 3 contacts")
        # the table shows the change
        table = contacts_screen(app).table
        await settle(pilot, table)
        rows = {r.email: r for i in range(table.count or 0) if (r := table.row_at(i))}
        assert (COURSE, True) in rows[BEN].products

        await undo(pilot, app)
        assert snapshot(db) == before
        await said(pilot, app, "Took back the grant of “Course: Mindset Reset”")


async def test_extend_the_current_contact_then_undo(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        await to_row(pilot, app, ANN)
        menu = await open_menu(pilot, app)
        assert title_of(menu, "#actions-title") == "Actions: Ann Smith"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ActionsMenu))
        dialog = await open_dialog(pilot, app, "e")
        await fill(pilot, dialog, COACHING, expires="")
        await pilot.press("ctrl+s")  # extend needs a date or "never"
        await wait_until(pilot, lambda: dialog.query_one("#expires_at-error").display)
        dialog.query_one("#expires", Input).value = "2027-01-01"
        before = snapshot(sqlite_db)
        confirm = await submit(pilot, app)
        assert confirm_text(confirm) == 'Extend "1:1 Coaching" (expires 2027-01-01) for 1 contact'
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))
        m = membership(sqlite_db, ANN, COACHING)
        assert m is not None and m.expires_at is not None and m.expires_at.year == 2027
        events = new_events(sqlite_db, before)
        assert [(e.kind, e.detail) for e in events] == [("extended", "2026-03-15 -> 2027-01-01")]
        await said(pilot, app, "to undo the extension of “1:1 Coaching” for 1 contact")
        await undo(pilot, app)
        assert snapshot(sqlite_db) == before


async def test_change_payment_type_then_undo(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN, BEN, CHLOE)
        dialog = await open_dialog(pilot, app, "p")
        await fill(pilot, dialog, COACHING, payment="free")
        before = snapshot(sqlite_db)
        confirm = await submit(pilot, app)
        assert confirm_text(confirm) == (
            'Change the payment type of "1:1 Coaching" to free for 2 contacts; '
            "1 selected contact has no such membership and is left alone"
        )
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))
        for email in (ANN, BEN):
            m = membership(sqlite_db, email, COACHING)
            assert m is not None and m.payment_type == "free"
        details = sorted(e.detail for e in new_events(sqlite_db, before))
        assert details == ["comped -> free", "paid -> free"]
        await undo(pilot, app)
        assert snapshot(sqlite_db) == before


async def test_cancel_then_undo(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN, BEN, DMITRI, MALLORY)
        dialog = await open_dialog(pilot, app, "c")
        await fill(pilot, dialog, COACHING)
        before = snapshot(sqlite_db)
        confirm = await submit(pilot, app)
        assert confirm_text(confirm) == (
            'Cancel "1:1 Coaching" for 3 contacts; 1 selected contact has no such '
            "membership and is left alone"
        )
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))
        for email in (ANN, BEN, MALLORY):
            m = membership(sqlite_db, email, COACHING)
            assert m is not None and m.cancelled_at == NOW
        assert [e.kind for e in new_events(sqlite_db, before)] == ["cancelled"] * 3
        await undo(pilot, app)
        assert snapshot(sqlite_db) == before


async def test_export_selected_writes_exactly_the_frozen_ids(
    sqlite_db: Database, tmp_path: Any
) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    target = tmp_path / "picked.csv"
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, BEN, DMITRI)
        await open_menu(pilot, app)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportCsvModal))
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ExportCsvModal)
        assert modal.scope.ids == frozenset(contact_ids(sqlite_db, BEN, DMITRI))
        modal.query_one("#export-path", PathInput).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportCsvModal))
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert sorted(line.split(",")[0] for line in lines[1:]) == [BEN, DMITRI]


async def test_delete_selected_then_undo(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    before = snapshot(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, BEN, CHLOE)
        await open_menu(pilot, app)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Delete 2 contacts?" in title_of(app.screen, "#confirm-title")
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))
        assert isinstance(app.undo.peek(), Deletion)
        with sqlite_db.engine.connect() as conn:
            left = set(conn.execute(select(contact_t.c.email)).scalars())
        assert BEN not in left and CHLOE not in left and ANN in left
        await undo(pilot, app)
    assert snapshot(sqlite_db) == before


async def test_the_menu_is_in_the_footer_and_the_palette(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN)
        footer = " ".join(str(w.render()) for w in app.screen.query("FooterKey"))
        assert "Actions" in footer
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Actions")
        await command.callback()
        await wait_until(pilot, lambda: isinstance(app.screen, ActionsMenu))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ActionsMenu))
