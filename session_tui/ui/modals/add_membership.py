"""The add-membership modal (`a` on Contacts, Memberships and Contact detail).

`AddMembershipModal(db, email="", clock=utcnow)` is a `Dialog[GrantResult]`:
email (completes existing contacts as you type: `right` accepts the suggestion;
prefilled with the current contact), product (non-archived products), payment type
and an optional expiry date (YYYY-MM-DD). Beside the email it says whether this is
an existing contact or a new one that will be created, and beside the product
whether the contact already has it (then adding reactivates it).
`enter` / ctrl+s adds; errors appear beside their field and nothing is written;
`escape` cancels and writes nothing. Dismisses with the repository's `GrantResult`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static

from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.data.repositories.memberships import GrantResult, MembershipsRepository
from session_tui.data.validation import (
    ValidationError,
    clean_email,
    email_problem,
    strip_controls,
)
from session_tui.ui.modals.base import ErrorLine, cancel_button
from session_tui.ui.modals.membership_actions import expiry_hint, form_footer, parse_expiry
from session_tui.ui.modals.membership_form import (
    MembershipForm,
    form_row,
    payment_choice,
    product_choice,
)
from session_tui.ui.moments import Clock
from session_tui.ui.user_text import literal

LOOKUP_DEBOUNCE = 0.15
EMAIL_HELP = "An email that is not a contact yet creates the contact."
PASSED = "that date has passed: a membership cannot expire before it starts"


class ContactEmailSuggester(Suggester):
    """Completes an email with the first existing contact's email that starts with it."""

    def __init__(self, contacts: ContactsRepository) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self.contacts = contacts

    async def get_suggestion(self, value: str) -> str | None:
        if not value.strip():
            return None
        try:
            found = await asyncio.to_thread(self.contacts.suggest_emails, value, 1)
        except Exception:  # noqa: BLE001 - no completion is better than a crash
            return None
        return found[0] if found else None


@dataclass(frozen=True)
class _Lookup:
    email: str
    product_id: int | None
    email_hint: str
    product_hint: str


class AddMembershipModal(MembershipForm[GrantResult]):
    """Grant a product to a contact (a new email creates the contact)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Add the membership", id="add_membership.submit"),
    ]

    def __init__(self, db: Database, email: str = "", clock: Clock | None = None) -> None:
        super().__init__(db)
        self.memberships = MembershipsRepository(db, clock) if clock else MembershipsRepository(db)
        self.contacts = ContactsRepository(db)
        self._clock = self.memberships.clock
        self._initial_email = strip_controls(email)
        self._lookup_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label("Add membership", id="title")
            email = Input(
                value=self._initial_email,
                placeholder="name@example.com  (→ accepts a suggestion)",
                suggester=ContactEmailSuggester(self.contacts),
                id="email",
            )
            yield form_row("Email", email)
            yield Static(EMAIL_HELP, id="email-hint", classes="form-hint")
            yield ErrorLine("email", classes="form-hint")
            yield form_row("Product", product_choice())
            yield Static("", id="product-hint", classes="form-hint")
            yield ErrorLine("product", classes="form-hint")
            yield form_row("Payment", payment_choice())
            yield ErrorLine("payment_type", classes="form-hint")
            expires = Input(placeholder="YYYY-MM-DD  (empty = never expires)", id="expires")
            yield form_row("Expires on", expires)
            yield Static("optional", id="expires-hint", classes="form-hint")
            yield ErrorLine("expires_at", classes="form-hint")
            yield from form_footer(Button("Add", variant="primary", id="add"), cancel_button())

    def on_mount(self) -> None:
        self.focus_input(self.query_one("#email", Input))
        self.load_products()
        self._schedule_lookup()

    # -- live hints ----------------------------------------------------------------------
    @on(Input.Changed, "#email")
    @on(Select.Changed, "#product")
    def _inputs_changed(self) -> None:
        self._schedule_lookup()

    def _schedule_lookup(self) -> None:
        if self._lookup_timer is not None:
            self._lookup_timer.stop()
        self._lookup_timer = self.set_timer(LOOKUP_DEBOUNCE, self._start_lookup)

    def _start_lookup(self) -> None:
        self._lookup_worker(self.query_one("#email", Input).value, self.chosen_product())

    @work(exclusive=True, group="add-membership-lookup")
    async def _lookup_worker(self, email: str, product_id: int | None) -> None:
        try:
            lookup = await self.in_thread(self._lookup, email, product_id)
        except Exception:  # noqa: BLE001 - hints are optional
            return
        self._show_lookup(lookup)

    def _lookup(self, email: str, product_id: int | None) -> _Lookup:
        """(In a thread.) Whether the email is a contact, and has the product already."""
        normal = clean_email(email)
        email_hint = product_hint = ""
        if normal and email_problem(normal) is None:
            contact = self.contacts.get_by_email(normal)
            if contact is None:
                email_hint = "New contact: it will be created."
            else:
                name = contact.full_name or "(no name)"
                email_hint = f"Existing contact: {name} · {contact.status.value}"
                if product_id is not None:
                    existing = self.memberships.find(normal, product_id)
                    if existing is not None:
                        state = "cancelled" if existing.cancelled else existing.status.value
                        then = (
                            "adding again sets the payment type and expiry below."
                            if state == "active"
                            else "adding reactivates it with the values below."
                        )
                        product_hint = f"Already has it ({state}, {existing.payment_type}): {then}"
        return _Lookup(email, product_id, email_hint, product_hint)

    def _show_lookup(self, lookup: _Lookup) -> None:
        if not self.is_attached:
            return  # the look-up finished after the dialog closed (e.g. saved meanwhile)
        self.query_one("#email-hint", Static).update(literal(lookup.email_hint or EMAIL_HELP))
        self.query_one("#product-hint", Static).update(literal(lookup.product_hint))

    @on(Input.Changed, "#expires")
    def _expiry_changed(self, event: Input.Changed) -> None:
        never = "optional: empty = never expires"
        hint = expiry_hint(event.value, self._clock(), never=never, past=PASSED)
        self.query_one("#expires-hint", Static).update(hint)

    # -- submit ----------------------------------------------------------------------------
    @on(Input.Submitted)
    @on(Button.Pressed, "#add")
    def action_submit(self) -> None:
        self.clear_errors()
        email = self.query_one("#email", Input).value
        product_id = self.chosen_product()
        ok = True
        normal = clean_email(email)
        problem = email_problem(normal)
        if problem:
            self.show_error("email", problem)
            ok = False
        if product_id is None:
            self.show_error("product", "choose a product")
            ok = False
        try:
            _, expires_at = parse_expiry(self.query_one("#expires", Input).value)
        except ValidationError as exc:
            self.show_error(exc.field, exc.message)
            ok = False
            expires_at = None
        if expires_at is not None and expires_at <= self._clock():
            self.show_error(
                "expires_at",
                f"{PASSED} (to back-fill history use `session-tui memberships add --started`)",
            )
            ok = False
        if not ok or product_id is None:
            return
        payment = self.chosen_payment()
        repo = self.memberships
        self.apply_in_thread(lambda: repo.grant(normal, product_id, payment, expires_at))
