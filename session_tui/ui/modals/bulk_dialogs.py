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

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from session_tui.data.bulk_memberships import BulkAction, BulkKind, BulkPlan, plan_bulk
from session_tui.data.db import Database, describe_error
from session_tui.data.models import PaymentType
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.validation import ValidationError
from session_tui.ui.modals.membership_actions import ApplyModal, parse_expiry
from session_tui.ui.moments import Clock, relative
from session_tui.ui.user_text import clean, literal

TITLES = {
    BulkKind.GRANT: "Grant a membership to {}",
    BulkKind.EXTEND: "Extend a membership of {}",
    BulkKind.PAYMENT: "Change the payment type of {}",
    BulkKind.CANCEL: "Cancel a membership of {}",
}
EXPIRY_PLACEHOLDER = {
    BulkKind.GRANT: "YYYY-MM-DD  (empty = never expires)",
    BulkKind.EXTEND: "YYYY-MM-DD or never",
}


class BulkActionDialog(ApplyModal[BulkPlan]):
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
        super().__init__()
        self.kind = kind
        self.subject = subject
        self.ids = ids
        self.db = db
        self._clock = clock

    @property
    def _asks_payment(self) -> bool:
        return self.kind in (BulkKind.GRANT, BulkKind.PAYMENT)

    @property
    def _asks_expiry(self) -> bool:
        return self.kind in (BulkKind.GRANT, BulkKind.EXTEND)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog bulk-dialog"):
            yield Label(literal(TITLES[self.kind].format(self.subject)), id="title")
            with Horizontal(classes="form-row"):
                yield Label("Product", classes="form-label")
                yield Select[int]([], prompt="Loading products…", id="product")
            yield Static("", id="product-error", classes="field-error form-hint")
            if self._asks_payment:
                with Horizontal(classes="form-row"):
                    label = "Payment" if self.kind is BulkKind.GRANT else "New type"
                    yield Label(label, classes="form-label")
                    with RadioSet(id="payment"):
                        for i, p in enumerate(PaymentType):
                            yield RadioButton(p.value, value=i == 0, id=f"payment-{p.value}")
                yield Static("", id="payment_type-error", classes="field-error form-hint")
            if self._asks_expiry:
                with Horizontal(classes="form-row"):
                    label = "Expires on" if self.kind is BulkKind.GRANT else "New expiry"
                    yield Label(label, classes="form-label")
                    yield Input(placeholder=EXPIRY_PLACEHOLDER[self.kind], id="expires")
                yield Static("", id="expires-hint", classes="form-hint")
                yield Static("", id="expires_at-error", classes="field-error form-hint")
            yield Static("", id="general-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Next (ctrl+s)", variant="primary", id="next")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#product", Select).focus()
        if self._asks_expiry:
            self._update_hint("")
        self._load_products()

    # -- products ------------------------------------------------------------------------
    @work(exclusive=True, group="bulk-products")
    async def _load_products(self) -> None:
        repo = ProductsRepository(self.db)
        try:
            rows = await self.in_thread(repo.all, include_archived=False)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.show_error("general", describe_error(exc))
            return
        if not self.is_open:
            return
        select = self.query_one("#product", Select)
        select.set_options((literal(r.name), r.id) for r in rows)
        select.prompt = "Choose a product" if rows else "No products yet (add some on p)"
        if len(rows) == 1:
            select.value = rows[0].id

    def _product(self) -> int | None:
        value = self.query_one("#product", Select).value
        return value if isinstance(value, int) else None

    # -- expiry ----------------------------------------------------------------------------
    @on(Input.Changed, "#expires")
    def _expiry_changed(self, event: Input.Changed) -> None:
        self._update_hint(event.value)

    def _update_hint(self, text: str) -> None:
        hint = self.query_one("#expires-hint", Static)
        if self.kind is BulkKind.EXTEND and not clean(text).strip():
            hint.update("a date, or “never” for no expiry")
            return
        try:
            _, value = parse_expiry(text)
        except ValidationError:
            hint.update("")
            return
        now = self._clock()
        if value is None:
            hint.update("never expires" if text.strip() else "optional: empty = never expires")
        elif value <= now:
            hint.update(f"{relative(value, now)}: in the past, the memberships will be expired")
        else:
            hint.update(f"expires {relative(value, now)}")

    def _expiry(self) -> datetime | None:
        """The expiry asked for (None: never expires); ValidationError for nonsense."""
        text = self.query_one("#expires", Input).value
        if self.kind is BulkKind.EXTEND and not clean(text).strip():
            raise ValidationError("expires_at", "type the new expiry date (YYYY-MM-DD) or never")
        return parse_expiry(text)[1]

    def _payment(self) -> PaymentType:
        pressed = self.query_one("#payment", RadioSet).pressed_button
        if pressed is None or pressed.id is None:
            return PaymentType.PAID
        return PaymentType(pressed.id.removeprefix("payment-"))

    # -- submit ----------------------------------------------------------------------------
    def _action(self, product_id: int) -> BulkAction:
        """The action the form describes; ValidationError for what is wrong."""
        if self.kind is BulkKind.GRANT:
            return BulkAction.grant(product_id, self._payment(), self._expiry())
        if self.kind is BulkKind.EXTEND:
            return BulkAction.extend(product_id, self._expiry())
        if self.kind is BulkKind.PAYMENT:
            return BulkAction.payment(product_id, self._payment())
        return BulkAction.cancel(product_id)

    @on(Input.Submitted)
    @on(Button.Pressed, "#next")
    def action_submit(self) -> None:
        self.clear_errors()
        product_id = self._product()
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

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


__all__ = ["BulkActionDialog"]
