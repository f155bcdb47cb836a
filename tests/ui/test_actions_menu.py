"""The actions menu on the Contacts screen (`A`), driven with Pilot end to end.

Every test asserts on the database: what the action wrote (memberships, one history
event per membership with the actor), that undo puts back exactly the state before,
and that nothing is written on escape, on refusal, or before the confirmation.
Grant with undo also runs on PostgreSQL (SESSION_TUI_TEST_POSTGRES).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import delete, func, select
from textual.widgets import Input, RadioButton, Select, Static

from session_tui.data import clock as clock_mod
from session_tui.data.db import Database
from session_tui.data.models import contact_t, event_t, membership_t
from session_tui.data.repositories.memberships import MembershipRow, MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.ui.app import SessionApp
from session_tui.ui.modals.actions_menu import ActionsMenu
from session_tui.ui.modals.bulk_dialogs import BulkActionDialog
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.export_csv import ExportCsvModal
from session_tui.ui.modals.progress import ProgressModal
from session_tui.ui.undo import BulkChange, Deletion
from session_tui.ui.widgets.path_input import PathInput
from tests.ui.contacts_helpers import (
    contacts_screen,
    numbered_people,
    seed,
    settle,
    wait_until,
)
from tests.ui.memberships_helpers import NOW, FrozenClock, make_frozen_app, seed_memberships

SIZE = (120, 40)
ANN, BEN, CHLOE, DMITRI, MALLORY = (
    "ann.smith@example.org",
    "ben.okafor@example.org",
    "chloe@example.org",
    "dmitri@example.org",
    "mallory@example.org",
)
COACHING, COURSE, RETREAT = "1:1 Coaching", "Course: Mindset Reset", "Retreat 2024"


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (contact_t, membership_t, event_t)
        }


def contact_ids(db: Database, *emails: str) -> list[int]:
    with db.engine.connect() as conn:
        found = dict(conn.execute(select(contact_t.c.email, contact_t.c.id)).all())
    return [int(found[e]) for e in emails]


def membership(db: Database, email: str, product: str) -> MembershipRow | None:
    return MembershipsRepository(db, FrozenClock()).find(email, product)


def new_events(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> list[Any]:
    known = {row[0] for row in before[event_t.name]}
    with db.engine.connect() as conn:
        rows = conn.execute(select(event_t).order_by(event_t.c.id)).all()
    return [r for r in rows if r.id not in known]


def messages(app: SessionApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def said(pilot: Any, app: SessionApp, text: str) -> None:
    """Wait for a toast containing `text` (a notification is a message: it arrives a
    moment after the flow that sent it ends)."""
    await wait_until(pilot, lambda: any(text in m for m in messages(app)))


def idle(app: SessionApp) -> bool:
    return not app.undo.busy and not isinstance(app.screen, ConfirmModal | BulkActionDialog)


async def start(pilot: Any, app: SessionApp, *emails: str) -> None:
    """The Contacts screen with these contacts selected (none: nothing selected)."""
    table = contacts_screen(app).table
    await settle(pilot, table)
    if emails:
        table.select_ids(contact_ids(app.db, *emails))
        await settle(pilot, table)


async def to_row(pilot: Any, app: SessionApp, email: str) -> None:
    table = contacts_screen(app).table
    index = next(
        i
        for i in range(table.count or 0)
        if (r := table.row_at(i)) is not None and r.email == email
    )
    table.move_cursor(index)
    await settle(pilot, table)


async def open_menu(pilot: Any, app: SessionApp) -> ActionsMenu:
    await pilot.press("A")
    await wait_until(pilot, lambda: isinstance(app.screen, ActionsMenu))
    await pilot.pause()
    assert isinstance(app.screen, ActionsMenu)
    return app.screen


def title_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_dialog(pilot: Any, app: SessionApp, key: str) -> BulkActionDialog:
    await open_menu(pilot, app)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, BulkActionDialog))
    dialog = app.screen
    assert isinstance(dialog, BulkActionDialog)
    select_box = dialog.query_one("#product", Select)
    await wait_until(pilot, lambda: select_box.prompt == "Choose a product")
    return dialog


async def fill(
    pilot: Any,
    dialog: BulkActionDialog,
    product: str,
    *,
    payment: str | None = None,
    expires: str | None = None,
) -> None:
    pid = ProductsRepository(dialog.db).require(product).id
    dialog.query_one("#product", Select).value = pid
    if payment is not None:
        dialog.query_one(f"#payment-{payment}", RadioButton).value = True
    if expires is not None:
        dialog.query_one("#expires", Input).value = expires
    await pilot.pause()


async def submit(pilot: Any, app: SessionApp) -> ConfirmModal:
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    await pilot.pause()
    assert isinstance(app.screen, ConfirmModal)
    return app.screen


def confirm_text(modal: ConfirmModal) -> str:
    return str(modal.query_one("#confirm-line-0", Static).render())


async def undo(pilot: Any, app: SessionApp) -> None:
    entries = len(app.undo)
    await pilot.press("u")
    await wait_until(pilot, lambda: len(app.undo) == entries - 1 and not app.undo.busy)
    await pilot.pause()


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


# -- cancelling, refusals, races ----------------------------------------------------------


async def test_escape_anywhere_before_the_commit_writes_nothing(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    before = snapshot(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN, BEN)
        await open_menu(pilot, app)
        await pilot.press("escape")  # the menu
        await wait_until(pilot, lambda: not isinstance(app.screen, ActionsMenu))
        dialog = await open_dialog(pilot, app, "g")
        await fill(pilot, dialog, COURSE)
        await pilot.press("escape")  # the dialog
        await wait_until(pilot, lambda: idle(app) and not isinstance(app.screen, ActionsMenu))
        dialog = await open_dialog(pilot, app, "g")
        await fill(pilot, dialog, COURSE)
        await submit(pilot, app)
        await pilot.press("escape")  # the confirmation
        await wait_until(pilot, lambda: idle(app))
        await said(pilot, app, "nothing was changed")
        assert len(app.undo) == 0
    assert snapshot(sqlite_db) == before


async def test_an_archived_product_is_refused_with_the_reason(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN, BEN)
        # archived while the dialog is open: the count refuses it, the dialog stays
        dialog = await open_dialog(pilot, app, "g")
        await fill(pilot, dialog, COURSE)
        ProductsRepository(sqlite_db).archive(COURSE)
        before = snapshot(sqlite_db)
        await pilot.press("ctrl+s")
        error = dialog.query_one("#product-error", Static)
        await wait_until(pilot, lambda: error.display)
        assert "is archived" in str(error.render())
        assert app.screen is dialog
        await pilot.press("escape")
        await wait_until(pilot, lambda: idle(app))
        assert snapshot(sqlite_db) == before

        # archived between the confirmation and the commit: refused, nothing written
        dialog = await open_dialog(pilot, app, "c")
        await fill(pilot, dialog, COACHING)
        await submit(pilot, app)
        ProductsRepository(sqlite_db).archive(COACHING)
        before = snapshot(sqlite_db)
        await pilot.press("y")
        await said(pilot, app, "Nothing was changed: “1:1 Coaching” is archived")
        await wait_until(pilot, lambda: idle(app))
        assert snapshot(sqlite_db) == before
        assert len(app.undo) == 0
    assert RETREAT  # the seed's archived product is never offered
    assert ProductsRepository(sqlite_db).require(RETREAT).archived


async def test_the_dialog_offers_no_archived_product(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN)
        dialog = await open_dialog(pilot, app, "c")
        offered = [str(o[0]) for o in dialog.query_one("#product", Select)._options]
        assert RETREAT not in offered and COACHING in offered


async def test_a_past_expiry_asks_once_more(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN, BEN)
        before = snapshot(sqlite_db)
        for answer in ("n", "y"):
            dialog = await open_dialog(pilot, app, "e")
            await fill(pilot, dialog, COACHING, expires="2026-03-08")
            confirm = await submit(pilot, app)
            assert confirm_text(confirm).endswith("this will make 2 memberships expired")
            await pilot.press("y")
            await wait_until(
                pilot,
                lambda c=confirm: isinstance(app.screen, ConfirmModal) and app.screen is not c,
            )
            await pilot.pause()
            again = app.screen
            assert "in the past" in title_of(again, "#confirm-title")
            assert "This will make 2 memberships expired." in title_of(again, "#confirm-line-0")
            await pilot.press(answer)
            await wait_until(pilot, lambda: idle(app))
            if answer == "n":
                assert snapshot(sqlite_db) == before
        await wait_until(pilot, lambda: len(app.undo) == 1)
        for email in (ANN, BEN):
            m = membership(sqlite_db, email, COACHING)
            assert m is not None and m.status.value == "expired"
        await undo(pilot, app)
        assert snapshot(sqlite_db) == before


async def test_a_contact_deleted_meanwhile_is_counted_gone_and_skipped(
    sqlite_db: Database,
) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, BEN, CHLOE, DMITRI)
        dialog = await open_dialog(pilot, app, "g")
        await fill(pilot, dialog, COURSE, payment="free")
        confirm = await submit(pilot, app)
        assert "to 3 contacts" in confirm_text(confirm)
        (chloe,) = contact_ids(sqlite_db, CHLOE)
        with sqlite_db.engine.begin() as conn:  # someone else deletes Chloé meanwhile
            mids = select(membership_t.c.id).where(membership_t.c.contact_id == chloe)
            conn.execute(delete(event_t).where(event_t.c.membership_id.in_(mids)))
            conn.execute(delete(membership_t).where(membership_t.c.contact_id == chloe))
            conn.execute(delete(contact_t).where(contact_t.c.id == chloe))
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))
        await said(pilot, app, "1 selected contact no longer exists")
        assert membership(sqlite_db, BEN, COURSE) is not None
        m = membership(sqlite_db, DMITRI, COURSE)
        assert m is not None and m.cancelled_at is None and m.payment_type == "free"


# -- one undo stack for every kind of change ---------------------------------------------


async def test_u_undoes_the_newest_change_of_any_kind(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    before = snapshot(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        await to_row(pilot, app, CHLOE)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))
        after_delete = snapshot(sqlite_db)
        await start(pilot, app, ANN, BEN)
        dialog = await open_dialog(pilot, app, "g")
        await fill(pilot, dialog, COURSE)
        await submit(pilot, app)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 2 and idle(app))
        await undo(pilot, app)  # the grant first
        assert snapshot(sqlite_db) == after_delete
        await said(pilot, app, "Next, u restores 1 contact")
        await undo(pilot, app)  # then the deletion
        await wait_until(pilot, lambda: not app.undo.busy)
    assert snapshot(sqlite_db) == before


async def test_an_undo_after_someone_changed_the_memberships_is_refused(
    sqlite_db: Database,
) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, ANN, BEN)
        dialog = await open_dialog(pilot, app, "c")
        await fill(pilot, dialog, COACHING)
        await submit(pilot, app)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.undo) == 1 and idle(app))
        repo = MembershipsRepository(sqlite_db, FrozenClock())
        row = repo.find(BEN, COACHING)
        assert row is not None
        repo.change_payment(row.id, "paid", actor="someone else")
        before = snapshot(sqlite_db)
        await pilot.press("u")
        await wait_until(
            pilot, lambda: any("Undo refused" in m for m in messages(app)) and not app.undo.busy
        )
        refusal = next(m for m in messages(app) if "Undo refused" in m)
        assert "changed since" in refusal and "nothing was undone" in refusal
        assert snapshot(sqlite_db) == before
        assert len(app.undo) == 0  # it can never be undone as it stands: dropped


# -- large selections: progress, and escape cancels before the commit ----------------------


async def test_a_large_grant_shows_progress_and_escape_cancels_before_the_commit(
    sqlite_db: Database,
) -> None:
    ids = seed(sqlite_db, numbered_people(1_200))
    ProductsRepository(sqlite_db).add("Retreat")
    app = make_frozen_app(sqlite_db)
    before = snapshot(sqlite_db)
    path = sqlite_db.engine.url.database
    assert path is not None
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        table.select_ids(ids)
        await settle(pilot, table)
        for cancel in (True, False):
            dialog = await open_dialog(pilot, app, "g")
            await fill(pilot, dialog, "Retreat")
            confirm = await submit(pilot, app)
            assert confirm_text(confirm).startswith(
                'Grant "Retreat" (paid, never expires) to 1,200 contacts: 1,200 new'
            )
            # Another writer holds the database: the action waits for it, so escape
            # reaches it before it has written anything.
            other = sqlite3.connect(path)
            other.execute("BEGIN IMMEDIATE")
            try:
                await pilot.press("y")
                await wait_until(pilot, lambda: isinstance(app.screen, ProgressModal))
                if cancel:
                    await pilot.press("escape")
                    status = app.screen.query_one("#progress-status", Static)
                    await wait_until(
                        pilot, lambda s=status: "Cancelling" in str(s.render())
                    )
            finally:
                other.rollback()
                other.close()
            await wait_until(
                pilot, lambda: idle(app) and not isinstance(app.screen, ProgressModal)
            )
            if cancel:
                await said(pilot, app, "Cancelled: nothing was changed")
                assert snapshot(sqlite_db) == before
                assert len(app.undo) == 0
        await wait_until(pilot, lambda: len(app.undo) == 1)
        with sqlite_db.engine.connect() as conn:
            retreat = ProductsRepository(sqlite_db).require("Retreat").id
            granted = conn.execute(
                select(func.count())
                .select_from(membership_t)
                .where(membership_t.c.product_id == retreat)
            ).scalar_one()
        assert granted == 1_200
        await undo(pilot, app)
    assert snapshot(sqlite_db) == before
