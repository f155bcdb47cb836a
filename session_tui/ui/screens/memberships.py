"""The Memberships screen (`m`): every membership, searchable, filterable, sortable
and selectable.

Search by email or name (`/`), filters by product, status and payment type (`f`
focuses them); select with `space`, shift+up/down, `ctrl+a` (every match), `*`
(invert), `escape` (clear); sort with `o` / `O` or a header click. From the current
row: `a` add (prefilled with its email), `x` new expiry date, `d` / `delete` cancel
(confirmation), `t` payment type, `enter` the contact's detail. With a selection,
`x`, `t` and `d` change every selected membership (counts first, then one
transaction: membership_bulk.py), and `A` opens the menu of those changes (on the
current row when nothing is selected); `u` undoes the last such change. The table
is virtual (see widgets/memberships/table.py): it stays fast at millions of
memberships.

`screen.show_product(product_id)` shows one product's memberships (Products screen's
`enter`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Select, Static

from session_tui.data.bulk_common import BulkKind
from session_tui.data.db import describe_error
from session_tui.data.enums import PaymentType, Status
from session_tui.data.repositories.memberships import MembershipQuery, MembershipRow
from session_tui.data.repositories.products import ProductsRepository
from session_tui.ui.context import session
from session_tui.ui.key_table import HIDDEN, SHOWN, Key, key_table
from session_tui.ui.screens import membership_bulk
from session_tui.ui.screens.contact_detail import ContactDetailScreen
from session_tui.ui.screens.membership_changes import MembershipChanges
from session_tui.ui.screens.table_search import TableSearch, search_keys
from session_tui.ui.user_text import escape_markup, literal
from session_tui.ui.widgets.contacts.table import ContactsTable
from session_tui.ui.widgets.memberships.table import MembershipsTable, MembershipsTableQuery


class MembershipsScreen(TableSearch[MembershipsTableQuery], MembershipChanges[None]):
    """Every membership: email, name, product, payment type, status, started, expires."""

    CSS_PATH = "memberships.tcss"
    HELP_SECTION = "Memberships"
    AUTO_FOCUS = "#memberships-table"
    SEARCH_ID = "memberships-search"

    # The product list of the filter row arrives in a worker: a product shown before
    # that (`show_product`) waits here until it is in the list.
    _pending_product: int | None = None
    _products_loaded = False

    # fmt: off
    BINDINGS: ClassVar[list[BindingType]] = key_table(
        "memberships",
        *search_keys(
            search_tooltip="Search emails and names (as you type)",
            leave_tooltip="Leave the search box / filters, back to the table",
        ),
        Key("f", "focus_filters", "Filter", "filters", SHOWN,
            "Filter by product, status and payment type"),
        Key("a", "add", "Add", "add", SHOWN,
            "Add a membership (prefilled with this row's email)"),
        Key("A", "actions", "Actions", "actions", SHOWN,
            "Extend, change payment type or cancel the selected memberships (or the current one)"),
        Key("x", "extend", "Expiry", "extend", SHOWN,
            "Set a new expiry date (extend): the selected memberships, or the current one"),
        Key("d,delete", "cancel_membership", "Cancel", "cancel", SHOWN,
            "Cancel the selected memberships, or the current one (asks first)", key_display="d"),
        # (t: in ? help, the palette and the actions menu; the footer has no room at 80
        # columns once the filter row has the focus and adds `esc Table`)
        Key("t", "payment", "Payment", "payment", HIDDEN,
            "Change the payment type: the selected memberships, or the current one"),
        Key("u", "undo", "Undo", "undo", HIDDEN,
            "Undo the last change made to several memberships here"),
        Key("enter", "open_contact", "Open", "open_contact", SHOWN,
            "Open the contact: memberships and history"),
    )
    # fmt: on

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="memberships-search-row"):
            yield Static("/", id="memberships-search-icon", markup=False)
            yield Input(
                placeholder="Search emails and names  (/ to focus, escape to leave)",
                id="memberships-search",
            )
        with Horizontal(id="memberships-filters"):
            yield Select[int]([], prompt="All products", id="filter-product")
            yield Select[str](
                [("active", Status.ACTIVE.value), ("expired", Status.EXPIRED.value)],
                prompt="Any status",
                id="filter-status",
            )
            yield Select[str](
                [(p.value, p.value) for p in PaymentType],
                prompt="Any payment type",
                id="filter-payment",
            )
        app = session(self)
        yield MembershipsTable(app.db, app.clock, id="memberships-table")
        yield Static("Counting memberships…", id="memberships-count-line", markup=False)
        yield Footer(compact=True)

    # -- public -----------------------------------------------------------------------------
    @property
    def table(self) -> MembershipsTable:
        return self.query_one("#memberships-table", MembershipsTable)

    def show_product(self, product_id: int) -> None:
        """Show only this product's memberships (other filters reset)."""
        if not self.is_mounted:  # first visit: the widgets are not there yet
            self._pending_product = product_id
            self.call_after_refresh(self.show_product, product_id)
            return
        self.query_one("#filter-status", Select).clear()
        self.query_one("#filter-payment", Select).clear()
        if self._products_loaded:
            self._select_product(product_id)
        else:
            self._pending_product = product_id
        self._apply_filters(product_id=product_id)

    def refresh_memberships(self) -> None:
        self.table.reload()

    # -- lifecycle --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._load_products()

    def on_screen_resume(self) -> None:
        # Changes made elsewhere (Contacts, Products, the CLI) show when coming back.
        if self.table.count is not None:
            self.table.reload()
        self._load_products()

    @work(exclusive=True, group="memberships-products")
    async def _load_products(self) -> None:
        try:
            products = await asyncio.to_thread(ProductsRepository(session(self).db).all)
        except Exception as exc:  # noqa: BLE001
            self.notify(escape_markup(describe_error(exc)), severity="error")
            return
        self._set_products(
            [(p.name + ("  (archived)" if p.archived else ""), p.id) for p in products]
        )

    def _set_products(self, options: list[tuple[str, int]]) -> None:
        select = self.query_one("#filter-product", Select)
        current = select.value
        with select.prevent(Select.Changed):
            select.set_options((literal(name), pid) for name, pid in options)
            if isinstance(current, int) and any(pid == current for _, pid in options):
                select.value = current
        self._products_loaded = True
        if self._pending_product is not None:
            self._select_product(self._pending_product)
            self._pending_product = None

    def _select_product(self, product_id: int) -> None:
        select = self.query_one("#filter-product", Select)
        with select.prevent(Select.Changed):
            try:
                select.value = product_id
            except Exception:  # noqa: BLE001 - not among the options (deleted meanwhile)
                select.clear()

    # -- search and filters ------------------------------------------------------------------
    def _in_search(self) -> bool:
        return self.focused is self.search_input or isinstance(self.focused, Select)

    def action_focus_filters(self) -> None:
        self.set_focus(self.query_one("#filter-product", Select))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search":
            return not isinstance(self.focused, Input)
        if action == "leave_search":
            focused = self.focused
            if isinstance(focused, Select):
                return not focused.expanded  # escape first closes an open dropdown
            return focused is self.search_input
        if action in ("extend", "cancel_membership", "payment", "actions"):
            return self.table.current_membership is not None or bool(self._counts.selected)
        if action == "open_contact":
            return self.table.current_membership is not None
        return True

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("filter-product", "filter-status", "filter-payment"):
            self._apply_filters()

    def _apply_filters(self, product_id: int | None = None) -> None:
        product = self.query_one("#filter-product", Select).value
        if product_id is not None:
            product = product_id
        status = self.query_one("#filter-status", Select).value
        payment = self.query_one("#filter-payment", Select).value
        query = MembershipQuery(
            product_id=product if isinstance(product, int) else None,
            status=Status(status) if isinstance(status, str) else None,
            payment_type=PaymentType(payment) if isinstance(payment, str) else None,
        )
        table = self.table
        new_filter = None if query == MembershipQuery() else query
        if new_filter != table.table_query.filter:
            table.table_query = replace(table.table_query, filter=new_filter)

    # -- count line ----------------------------------------------------------------------------
    @on(ContactsTable.CountChanged)
    def _count_changed(self, event: ContactsTable.CountChanged) -> None:
        self._counts.counted(event)
        self._update_count_line()
        self.refresh_bindings()

    @on(MembershipsTable.SelectionChanged)
    def _selection_changed(self, event: MembershipsTable.SelectionChanged) -> None:
        had = bool(self._counts.selected)
        self._counts.selection_changed(event)
        self._update_count_line()
        if had != bool(self._counts.selected):
            self.refresh_bindings()

    def _update_count_line(self) -> None:
        self.query_one("#memberships-count-line", Static).update(self._counts.line("membership"))

    @on(ContactsTable.Highlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    # -- actions -------------------------------------------------------------------------------
    def _current(self) -> MembershipRow | None:
        row = self.table.current_membership
        if row is None:
            self.notify("No membership here.", severity="warning")
        return row

    def after_membership_change(self, changed: bool) -> None:
        if changed:
            self.table.reload()
        self.table.focus()

    def action_add(self) -> None:
        row = self.table.current_membership
        self.add_membership(row.email if row else "")

    def action_extend(self) -> None:
        self._change(BulkKind.EXTEND, self.extend_membership)

    def action_cancel_membership(self) -> None:
        self._change(BulkKind.CANCEL, self.cancel_membership)

    def action_payment(self) -> None:
        self._change(BulkKind.PAYMENT, self.change_payment)

    def _change(self, kind: BulkKind, change_one: Callable[[MembershipRow], object]) -> None:
        """With a selection, x / t / d change every selected membership (counts first);
        without one, the current membership through its own dialog."""
        if self.table.selected_ids():
            self._bulk(kind)
            return
        row = self._current()
        if row is not None:
            change_one(row)

    @work(group="membership-bulk")
    async def _bulk(self, kind: BulkKind) -> None:
        await membership_bulk.change_selected(self, self.table, kind)

    @work(group="membership-bulk")
    async def action_actions(self) -> None:
        await membership_bulk.choose_action(self, self.table)

    @work(group="membership-bulk")
    async def action_undo(self) -> None:
        await membership_bulk.undo_last(self, self.table)

    def action_open_contact(self) -> None:
        row = self._current()
        if row is not None:
            self.open_contact(row.contact_id)

    @work(group="open-contact")
    async def open_contact(self, contact_id: int) -> None:
        """The contact's detail; back here, reload when something was changed there."""
        changed = await self.app.push_screen_wait(ContactDetailScreen(contact_id))
        self.after_membership_change(bool(changed))
