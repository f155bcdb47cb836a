"""The actions menu (`A`): escape before the commit, an archived product, a past expiry,
a contact deleted meanwhile, one undo stack for every kind of change, and a large
selection with progress and cancel. Every test asserts on the database.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import delete, func, select
from textual.widgets import Select, Static

from session_tui.data.db import Database
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t, event_t, membership_t
from session_tui.ui.modals.actions_menu import ActionsMenu
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.progress import ProgressModal
from tests.ui.actions_helpers import (
    ANN,
    BEN,
    CHLOE,
    COACHING,
    COURSE,
    DMITRI,
    RETREAT,
    SIZE,
    confirm_text,
    contact_ids,
    fill,
    idle,
    membership,
    messages,
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
    numbered_people,
    seed,
    settle,
    wait_until,
)
from tests.ui.memberships_helpers import FrozenClock, make_frozen_app, seed_memberships

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
                    await wait_until(pilot, lambda s=status: "Cancelling" in str(s.render()))
            finally:
                other.rollback()
                other.close()
            await wait_until(pilot, lambda: idle(app) and not isinstance(app.screen, ProgressModal))
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
