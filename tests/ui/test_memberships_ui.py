"""Pilot tests of the membership flows: add (Contacts / Memberships / detail), extend,
cancel, payment type, contact detail, Products screen. Each asserts on the database
and the history, with a frozen clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from textual.widgets import DataTable, Input, RadioButton, Select, Static

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database
from session_tui.data.repositories.memberships import MembershipQuery, MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import EventKind, Status, contact_t, membership_t
from session_tui.ui.modals.add_membership import AddMembershipModal
from session_tui.ui.modals.membership_actions import (
    CancelMembershipModal,
    ExpiryModal,
    PaymentModal,
)
from session_tui.ui.modals.product_name import ProductNameModal
from session_tui.ui.screens.contact_detail import ContactDetailScreen
from session_tui.ui.screens.memberships import MembershipsScreen
from session_tui.ui.screens.products import ProductsScreen
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until
from tests.ui.memberships_helpers import (
    NOW,
    FrozenClock,
    make_frozen_app,
    open_memberships,
    seed_memberships,
    wait_for_screen,
)

SIZE = (120, 40)


def history_kinds(db: Database, email: str) -> list[str]:
    repo = MembershipsRepository(db, FrozenClock())
    with db.engine.connect() as conn:
        cid = conn.execute(select(contact_t.c.id).where(contact_t.c.email == email)).scalar_one()
    return [str(e.kind) for e in repo.history(cid)]


def active_until(db: Database, email: str) -> datetime | None:
    with db.engine.connect() as conn:
        return conn.execute(
            select(contact_t.c.active_until).where(contact_t.c.email == email)
        ).scalar_one()


def membership_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(membership_t)).scalar_one())


async def open_add_modal(pilot, app) -> AddMembershipModal:  # type: ignore[no-untyped-def]
    await pilot.press("a")
    modal = await wait_for_screen(pilot, AddMembershipModal)
    select_widget = modal.query_one("#product", Select)
    await wait_until(pilot, lambda: len(select_widget._options) > 1)
    return modal  # type: ignore[no-any-return]


async def test_add_membership_from_contacts_prefilled(sqlite_db: Database) -> None:
    seeded = seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        table.move_cursor(0)  # Ann Smith (names sort by last name: Müller, Okafor, Patel, Smith…)
        await settle(pilot, table)
        row = table.current_row
        assert row is not None
        modal = await open_add_modal(pilot, app)
        assert modal.query_one("#email", Input).value == row.email
        # archived products are not offered
        offered = {v for _, v in modal.query_one("#product", Select)._options}
        assert seeded.products["Retreat 2024"] not in offered
        await wait_until(
            pilot,
            lambda: "Existing contact" in str(modal.query_one("#email-hint", Static).render()),
        )
        modal.query_one("#product", Select).value = seeded.products["1:1 Coaching"]
        modal.query_one("#payment-comped", RadioButton).value = True
        modal.set_focus(modal.query_one("#expires", Input))
        await pilot.press(*"2027-01-31")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is contacts_screen(app))
    email = row.email
    repo = MembershipsRepository(sqlite_db, FrozenClock())
    m = repo.find(email, "1:1 Coaching")
    assert m is not None
    assert m.payment_type == "comped" and m.expires_at == datetime(2027, 1, 31)


async def test_add_new_email_creates_contact_and_rejects_nonsense(sqlite_db: Database) -> None:
    seeded = seed_memberships(sqlite_db)
    before = membership_count(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        modal = await open_add_modal(pilot, app)
        email = modal.query_one("#email", Input)
        email.value = ""
        modal.set_focus(email)
        await pilot.press(*"New.Person@Example.org")
        await wait_until(
            pilot, lambda: "New contact" in str(modal.query_one("#email-hint", Static).render())
        )
        modal.query_one("#product", Select).value = seeded.products["Course: Mindset Reset"]
        expires = modal.query_one("#expires", Input)
        modal.set_focus(expires)
        await pilot.press(*"31/12/2026", "enter")
        await pilot.pause()
        error = modal.query_one("#expires_at-error", Static)
        assert error.display and "not a date; use YYYY-MM-DD" in str(error.render())
        assert isinstance(app.screen, AddMembershipModal)  # still open, nothing written
        assert membership_count(sqlite_db) == before
        expires.value = "2026-01-01"  # before "now": refused with a clear message
        await pilot.press("enter")
        await pilot.pause()
        assert "has passed" in str(modal.query_one("#expires_at-error", Static).render())
        assert membership_count(sqlite_db) == before
        expires.value = ""
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, AddMembershipModal))
        await settle(pilot, contacts_screen(app).table)
        assert contacts_screen(app).table.count == 6
    assert membership_count(sqlite_db) == before + 1
    assert history_kinds(sqlite_db, "new.person@example.org") == ["granted"]
    assert active_until(sqlite_db, "new.person@example.org") == FAR_FUTURE


async def test_escape_cancels_the_add_modal_and_writes_nothing(sqlite_db: Database) -> None:
    seeded = seed_memberships(sqlite_db)
    before = membership_count(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        modal = await open_add_modal(pilot, app)
        modal.query_one("#product", Select).value = seeded.products["Course: Mindset Reset"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is contacts_screen(app))
    assert membership_count(sqlite_db) == before


async def test_regranting_a_cancelled_membership_reactivates_it(sqlite_db: Database) -> None:
    seeded = seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        modal = await open_add_modal(pilot, app)
        email = modal.query_one("#email", Input)
        email.value = "dmitri@example.org"
        modal.query_one("#product", Select).value = seeded.products["Course: Mindset Reset"]
        await wait_until(
            pilot, lambda: "reactivates" in str(modal.query_one("#product-hint", Static).render())
        )
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, AddMembershipModal))
    assert history_kinds(sqlite_db, "dmitri@example.org") == ["reactivated", "cancelled", "granted"]
    assert active_until(sqlite_db, "dmitri@example.org") == FAR_FUTURE


async def test_memberships_screen_extend_payment_cancel(db: Database) -> None:
    seed_memberships(db)
    app = make_frozen_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        table = screen.table
        assert table.count == 6
        assert "6 memberships" in str(screen.query_one("#memberships-count-line").render())
        # newest start first: mallory (5 days ago), ben (10), dmitri (30), ann (40) …
        row = table.current_membership
        assert row is not None and row.email == "mallory@example.org"
        table.move_cursor(1)
        await settle(pilot, table)
        row = table.current_membership
        assert row is not None and row.email == "ben.okafor@example.org"

        await pilot.press("x")
        modal = await wait_for_screen(pilot, ExpiryModal)
        box = modal.query_one("#expires", Input)
        assert box.value == ""  # never expires
        await pilot.press(*"2026-06-30", "enter")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot, table)

        await pilot.press("t")
        pay = await wait_for_screen(pilot, PaymentModal)
        await pilot.press("up", "up", "enter")  # it opens on "comped" (current): up to "paid"
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot, table)
        assert pay.row.payment_type == "comped"

        await pilot.press("d")
        await wait_for_screen(pilot, CancelMembershipModal)
        await pilot.press("n")  # keep it
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("d")
        await wait_for_screen(pilot, CancelMembershipModal)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot, table)
        row = table.current_membership
        assert row is not None and row.cancelled and row.status is Status.EXPIRED
        # back on Contacts, Ben's status is already re-read (his only membership ended)
        await pilot.press("c")
        contacts = contacts_screen(app).table
        await wait_until(pilot, lambda: app.screen is contacts_screen(app))
        await settle(pilot, contacts)
        ben = next(
            r
            for i in range(contacts.count or 0)
            if (r := contacts.row_at(i)) is not None and r.email == "ben.okafor@example.org"
        )
        assert ben.status is Status.EXPIRED
    repo = MembershipsRepository(db, FrozenClock())
    m = repo.find("ben.okafor@example.org", "1:1 Coaching")
    assert m is not None
    assert m.expires_at == datetime(2026, 6, 30) and m.payment_type == "paid"
    assert m.cancelled_at == NOW
    events = repo.history(m.contact_id)
    assert [(str(e.kind), e.detail) for e in events] == [
        ("cancelled", ""),
        ("payment_changed", "comped -> paid"),
        ("extended", "never -> 2026-06-30"),
        ("granted", "comped, never expires"),
    ]
    assert active_until(db, "ben.okafor@example.org") == NOW


async def test_memberships_screen_filters_and_search(sqlite_db: Database) -> None:
    seeded = seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        table = screen.table
        product = screen.query_one("#filter-product", Select)
        await wait_until(pilot, lambda: len(product._options) > 3)
        product.value = seeded.products["1:1 Coaching"]
        await wait_until(pilot, lambda: table.count == 3)
        screen.query_one("#filter-status", Select).value = "active"
        screen.query_one("#filter-payment", Select).value = "paid"
        await wait_until(pilot, lambda: table.count == 2)  # ann (5 days left), mallory
        await settle(pilot, table)
        line = str(screen.query_one("#memberships-count-line").render())
        assert line == "2 of 6 memberships"
        await pilot.press("slash", *"smith")
        await wait_until(pilot, lambda: table.count == 1)
        await pilot.press("escape")
        assert screen.focused is table
        await settle(pilot, table)
        row = table.current_membership
        assert row is not None and row.email == "ann.smith@example.org"
        screen.query_one("#filter-status", Select).value = "expired"
        await wait_until(pilot, lambda: table.count == 0)
        await settle(pilot, table)
        await pilot.press("enter")  # no row: nothing happens
        assert app.screen is screen


async def test_contact_detail_shows_memberships_and_history(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        index = next(
            i
            for i in range(table.count or 0)
            if (r := table.row_at(i)) is not None and r.email == "ann.smith@example.org"
        )
        table.move_cursor(index)
        await settle(pilot, table)
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, ContactDetailScreen)
        await wait_until(pilot, lambda: detail.data is not None)
        await pilot.pause()
        memberships = detail.query_one("#detail-memberships", DataTable)
        rows = [[str(c) for c in memberships.get_row_at(i)] for i in range(memberships.row_count)]
        assert rows[0][:3] == ["1:1 Coaching", "paid", "active"]
        assert "in 5 days" in rows[0][4]
        assert rows[1][:3] == ["Course: Mindset Reset", "free", "expired"]
        assert "3 months ago" in rows[1][4]
        history = detail.query_one("#detail-history", DataTable)
        kinds = [str(history.get_row_at(i)[1]) for i in range(history.row_count)]
        assert kinds == ["granted", "expired", "payment changed", "granted"]
        # the expired event is derived from the clock, at the expiry time
        assert str(history.get_row_at(1)[0]) == "2025-12-10 00:00"
        # extend the selected membership from here; back reports the change
        memberships.move_cursor(row=1)
        await pilot.press("x")
        modal = await wait_for_screen(pilot, ExpiryModal)
        modal.query_one("#expires", Input).value = "2026-09-01"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is detail)
        await wait_until(pilot, lambda: history.row_count == 5)
        kinds = [str(history.get_row_at(i)[1]) for i in range(history.row_count)]
        assert kinds == ["extended", "granted", "expired", "payment changed", "granted"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is contacts_screen(app))
    assert history_kinds(sqlite_db, "ann.smith@example.org")[0] == "extended"


async def test_products_screen_add_rename_archive(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    products = ProductsRepository(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("p")
        screen = await wait_for_screen(pilot, ProductsScreen)
        table = screen.query_one("#products-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        cells = [[str(c) for c in table.get_row_at(i)] for i in range(3)]
        assert cells[0][:3] == ["1:1 Coaching", "3", "3"]
        assert cells[1][:3] == ["Course: Mindset Reset", "0", "2"]
        assert cells[2][:4] == ["Retreat 2024", "1", "1", "archived"]

        await pilot.press("a")
        modal = await wait_for_screen(pilot, ProductNameModal)
        await pilot.press(*"  course: mindset RESET ", "enter")
        await pilot.pause()
        await wait_until(pilot, lambda: modal.query_one("#name-error", Static).display)
        assert "already exists" in str(modal.query_one("#name-error", Static).render())
        modal.query_one("#name", Input).value = "   "
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "empty" in str(modal.query_one("#name-error", Static).render())
        )
        modal.query_one("#name", Input).value = "Group Program"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and table.row_count == 4)
        assert products.get("group program") is not None

        table.move_cursor(row=0)
        await pilot.press("r")
        modal = await wait_for_screen(pilot, ProductNameModal)
        assert modal.query_one("#name", Input).value == "1:1 Coaching"
        modal.query_one("#name", Input).value = "1:1 Coaching Plus"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        await wait_until(pilot, lambda: str(table.get_row_at(0)[0]) == "1:1 Coaching Plus")

        table.move_cursor(row=0)
        await pilot.press("d")
        await wait_until(pilot, lambda: str(table.get_row_at(0)[3]) == "archived")
        assert products.require("1:1 Coaching Plus").archived
        await pilot.press("u")
        await wait_until(pilot, lambda: str(table.get_row_at(0)[3]) == "")
        assert not products.require("1:1 Coaching Plus").archived

        table.move_cursor(row=1)  # Course: Mindset Reset -> its memberships
        await pilot.press("enter")
        ms = await wait_for_screen(pilot, MembershipsScreen)
        await wait_until(pilot, lambda: ms.table.count == 2)
    repo = MembershipsRepository(sqlite_db, FrozenClock())
    assert repo.count(MembershipQuery(product_id=products.require("1:1 coaching plus").id)) == 3


async def test_values_are_shown_literally(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        text = screen.table.render_line(1).text
        assert "[bold red]Mallory [@c…" in text  # literal (truncated by the column)
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, ContactDetailScreen)
        await wait_until(pilot, lambda: detail.data is not None)
        await pilot.pause()
        head = str(detail.query_one("#detail-head", Static).render())
        assert "[bold red]Mallory [@click=app.quit]" in head
        assert app.is_running  # the click markup did not quit the app
    assert EventKind.GRANTED.value in history_kinds(sqlite_db, "mallory@example.org")


async def test_memberships_count_line_never_shows_a_provisional_count(
    sqlite_db: Database,
) -> None:
    """While the real count is being read (the first rows are already shown), the line
    says so instead of showing how many rows have arrived as if it were the count."""
    from session_tui.ui.widgets.contacts.table import ContactsTable

    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        table = screen.table

        def line() -> str:
            return str(screen.query_one("#memberships-count-line", Static).render())

        assert line() == "6 memberships"
        table.post_message(ContactsTable.CountChanged(table, 3, 6, counting=True))
        await wait_until(pilot, lambda: line() == "Counting memberships…")
        table.post_message(ContactsTable.CountChanged(table, 3, 6))
        await wait_until(pilot, lambda: line() == "3 of 6 memberships")
