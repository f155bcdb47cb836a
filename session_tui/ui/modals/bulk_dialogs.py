"""The dialogs of the actions menu's membership actions: grant, extend, payment type,
cancel, for a frozen list of contact ids.

`BulkActionDialog(kind, subject, ids, db, clock)` is a `Dialog[BulkPlan]`:

- grant: product, payment type, optional expiry (empty = never expires);
- extend: product and the new expiry, a date (YYYY-MM-DD) or `never`;
- payment: product and the new payment type;
- cancel: product.

Products are the non-archived ones. On enter / ctrl+s the action is counted on the
ids (`data.bulk_memberships.plan_bulk`, in a thread; nothing is written) and the
dialog dismisses with the plan, for the confirmation. What the data layer refuses --
a product archived or deleted meanwhile, an impossible date -- is shown beside its
field and the dialog stays open; `escape` cancels.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Select, Static

from session_tui.data.bulk_memberships import BulkAction, BulkKind, BulkPlan, plan_bulk
from session_tui.data.db import Database
from session_tui.data.validation import ValidationError
from session_tui.ui.modals.base import ErrorLine, cancel_button
from session_tui.ui.modals.membership_actions import expiry_hint, form_footer, parse_expiry
from session_tui.ui.modals.membership_form import (
    MembershipForm,
    form_row,
    payment_choice,
    product_choice,
)
from session_tui.ui.moments import Clock
from session_tui.ui.user_text import clean, literal

TITLES = {
    BulkKind.GRANT: "Grant a membership to {}",
    BulkKind.EXTEND: "Extend a membership of {}",
    BulkKind.PAYMENT: "Change the payment type of {}",
    BulkKind.CANCEL: "Cancel a membership of {}",
}
# The kinds that ask for a payment type or an expiry, with the label of that field.
PAYMENT_LABEL = {BulkKind.GRANT: "Payment", BulkKind.PAYMENT: "New type"}
EXPIRY_LABEL = {BulkKind.GRANT: "Expires on", BulkKind.EXTEND: "New expiry"}
EXPIRY_PLACEHOLDER = {
    BulkKind.GRANT: "YYYY-MM-DD  (empty = never expires)",
    BulkKind.EXTEND: "YYYY-MM-DD or never",
}


class BulkActionDialog(MembershipForm[BulkPlan]):
    """Ask what a bulk membership action needs, then count it (`BulkPlan`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Next: the counts", id="bulk.submit"),
    ]

    def __init__(
        self,
        kind: BulkKind,
        subject: str,
        ids: tuple[int, ...],
        db: Database,
        clock: Clock,
    ) -> None:
        super().__init__(db)
        self.kind = kind
        self.subject = subject
        self.ids = ids
        self._clock = clock

    def compose(self) -> ComposeResult:
        kind = self.kind
        with Vertical(id="dialog", classes="membership-dialog bulk-dialog"):
            yield Label(literal(TITLES[kind].format(self.subject)), id="title")
            yield form_row("Product", product_choice())
            yield ErrorLine("product", classes="form-hint")
            if kind in PAYMENT_LABEL:
                yield form_row(PAYMENT_LABEL[kind], payment_choice())
                yield ErrorLine("payment_type", classes="form-hint")
            if kind in EXPIRY_LABEL:
                expires = Input(placeholder=EXPIRY_PLACEHOLDER[kind], id="expires")
                yield form_row(EXPIRY_LABEL[kind], expires)
                yield Static("", id="expires-hint", classes="form-hint")
                yield ErrorLine("expires_at", classes="form-hint")
            yield from form_footer(
                Button("Next (ctrl+s)", variant="primary", id="next"), cancel_button()
            )

    def on_mount(self) -> None:
        self.query_one("#product", Select).focus()
        if self.kind in EXPIRY_LABEL:
            self._update_hint("")
        self.load_products()

    # -- expiry ----------------------------------------------------------------------------
    @on(Input.Changed, "#expires")
    def _expiry_changed(self, event: Input.Changed) -> None:
        self._update_hint(event.value)

    def _update_hint(self, text: str) -> None:
        if self.kind is BulkKind.EXTEND and not clean(text).strip():
            hint = "a date, or “never” for no expiry"
        else:
            hint = expiry_hint(
                text,
                self._clock(),
                never="never expires" if text.strip() else "optional: empty = never expires",
                past="{when}: in the past, the memberships will be expired",
            )
        self.query_one("#expires-hint", Static).update(hint)

    def _expiry(self) -> datetime | None:
        """The expiry asked for (None: never expires); ValidationError for nonsense."""
        text = self.query_one("#expires", Input).value
        if self.kind is BulkKind.EXTEND and not clean(text).strip():
            raise ValidationError("expires_at", "type the new expiry date (YYYY-MM-DD) or never")
        return parse_expiry(text)[1]

    # -- submit ----------------------------------------------------------------------------
    def _action(self, product_id: int) -> BulkAction:
        """The action the form describes; ValidationError for what is wrong."""
        if self.kind is BulkKind.GRANT:
            return BulkAction.grant(product_id, self.chosen_payment(), self._expiry())
        if self.kind is BulkKind.EXTEND:
            return BulkAction.extend(product_id, self._expiry())
        if self.kind is BulkKind.PAYMENT:
            return BulkAction.payment(product_id, self.chosen_payment())
        return BulkAction.cancel(product_id)

    @on(Input.Submitted)
    @on(Button.Pressed, "#next")
    def action_submit(self) -> None:
        self.clear_errors()
        product_id = self.chosen_product()
        if product_id is None:
            self.show_error("product", "choose a product")
            return
        try:
            action = self._action(product_id)
        except ValidationError as exc:
            self.show_error(exc.field, exc.message)
            return
        db, ids, clock = self.db, self.ids, self._clock
        self.apply_in_thread(lambda: plan_bulk(db, action, ids, clock=clock))


__all__ = ["BulkActionDialog"]
