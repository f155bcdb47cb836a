"""A database worker that finishes after its dialog or screen was closed must not
crash the app. (Found under load: the add-membership dialog closed on a successful
save while its email look-up was still running; the look-up's result then queried
the closed dialog and the app died with NoMatches.)

The race is made deterministic: close the dialog, then deliver the worker's result
the way `call_from_thread` does, on the app's loop."""

from __future__ import annotations

from datetime import datetime

from session_tui.data.db import Database
from session_tui.data.repositories.products import ProductsRepository
from session_tui.ui.app import make_app
from session_tui.ui.modals.add_membership import AddMembershipModal, _Lookup
from session_tui.ui.screens.contact_detail import ContactDetailScreen, DetailData
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until


async def test_results_for_a_closed_dialog_or_screen_are_dropped(sqlite_db: Database) -> None:
    from tests.helpers import add_contacts

    add_contacts(sqlite_db, [("ann@example.com", "Ann", "Lee")])
    ProductsRepository(sqlite_db).add("Coaching")
    app = make_app(db=sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, contacts_screen(app).table)

        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AddMembershipModal))
        modal = app.screen
        assert isinstance(modal, AddMembershipModal)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not modal and not modal.is_attached)
        modal._show_lookup(_Lookup("ann@example.com", None, "Existing contact", ""))
        modal._set_products([("Coaching", 1)])

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContactDetailScreen))
        detail = app.screen
        assert isinstance(detail, ContactDetailScreen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not detail and not detail.is_attached)
        detail._show(DetailData(None, [], [], datetime(2026, 1, 1)))

        await pilot.pause()
        assert app.is_running and app.return_code is None
