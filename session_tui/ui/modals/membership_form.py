"""The form of the dialogs that grant or change memberships of one product (add
membership, the actions menu's bulk dialogs): labelled rows, the product choice
(the non-archived products, loaded in a thread) and the payment type.
"""

from __future__ import annotations

from typing import TypeVar

from textual import work
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, RadioButton, RadioSet, Select

from session_tui.data.db import Database, describe_error
from session_tui.data.enums import PaymentType
from session_tui.data.repositories.products import ProductsRepository
from session_tui.ui.modals.membership_actions import ApplyModal
from session_tui.ui.user_text import literal

R = TypeVar("R")


def form_row(label: str, field: Widget) -> Horizontal:
    """One row of the form: its label, then its field."""
    return Horizontal(Label(label, classes="form-label"), field, classes="form-row")


def product_choice() -> Select[int]:
    """`#product`: empty until `MembershipForm.load_products` fills it."""
    return Select[int]([], prompt="Loading products…", id="product")


def payment_choice() -> RadioSet:
    """`#payment`: a radio button a payment type (`#payment-<type>`), the first pressed."""
    return RadioSet(
        *(
            RadioButton(p.value, value=i == 0, id=f"payment-{p.value}")
            for i, p in enumerate(PaymentType)
        ),
        id="payment",
    )


class MembershipForm(ApplyModal[R]):
    """A dialog with `product_choice()` (and maybe `payment_choice()`) in its form."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.products = ProductsRepository(db)

    @work(exclusive=True, group="form-products")
    async def load_products(self) -> None:
        """Offer the products that are not archived."""
        try:
            rows = await self.in_thread(self.products.all, include_archived=False)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.show_error("general", describe_error(exc))
            return
        self._set_products([(r.name, r.id) for r in rows])

    def _set_products(self, options: list[tuple[str, int]]) -> None:
        """Offer `options` (name, id); one alone is chosen already."""
        if not self.is_open:
            return  # the worker finished after the dialog closed
        select = self.query_one("#product", Select)
        select.set_options((literal(name), pid) for name, pid in options)
        select.prompt = "Choose a product" if options else "No products yet (add some on p)"
        if len(options) == 1:
            select.value = options[0][1]

    def chosen_product(self) -> int | None:
        value = self.query_one("#product", Select).value
        return value if isinstance(value, int) else None

    def chosen_payment(self) -> PaymentType:
        pressed = self.query_one("#payment", RadioSet).pressed_button
        if pressed is None or pressed.id is None:
            return PaymentType.PAID
        return PaymentType(pressed.id.removeprefix("payment-"))
