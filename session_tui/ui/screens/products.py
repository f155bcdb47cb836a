"""The Products screen (`p`): products with active / total member counts.

`a` add, `r` rename, `d` / `delete` archive (kept with its memberships, not offered
for new ones), `u` unarchive, `enter` the product's memberships (Memberships screen
filtered by it). Names are validated (empty, too long, duplicate ignoring case) with
the message inside the modal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from session_tui.data.db import describe_error
from session_tui.data.repositories.products import ProductRow, ProductsRepository
from session_tui.ui.context import session
from session_tui.ui.modals.product_name import ProductNameModal
from session_tui.ui.moments import local_day
from session_tui.ui.screens.memberships import MembershipsScreen
from session_tui.ui.screens.top_screen import TopScreen
from session_tui.ui.user_text import escape_markup, literal
from session_tui.ui.wording import plural


class ProductsTable(DataTable[object]):
    """The products list; `enter` opens the product's memberships (RowSelected)."""

    HELP_SECTION = "Products"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Memberships",
            tooltip="Show the product's memberships",
            id="products.memberships",
        ),
    ]


class ProductsScreen(TopScreen):
    """Products and how many members each has."""

    CSS_PATH = "products.tcss"
    HELP_SECTION = "Products"
    AUTO_FOCUS = "#products-table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", tooltip="Add a product", id="products.add"),
        Binding("r", "rename", "Rename", tooltip="Rename the product", id="products.rename"),
        Binding(
            "d,delete",
            "archive",
            "Archive",
            key_display="d",
            tooltip="Archive the product: it keeps its memberships, is not offered for new ones",
            id="products.archive",
        ),
        Binding(
            "u",
            "unarchive",
            "Unarchive",
            tooltip="Offer an archived product again",
            id="products.unarchive",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.products: list[ProductRow] = []
        self._loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield ProductsTable(id="products-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading products…", id="products-empty")
        yield Static("", id="products-count-line", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#products-table", DataTable)
        table.add_column("Name", key="name")
        table.add_column("Active", key="active")
        table.add_column("Total", key="total")
        table.add_column("", key="archived")
        table.add_column("Created", key="created")
        self.load()

    def on_screen_resume(self) -> None:
        if self._loaded:
            self.load()

    # -- data -------------------------------------------------------------------------------
    def repository(self) -> ProductsRepository:
        app = session(self)
        return ProductsRepository(app.db, app.clock)

    def load(self, select_id: int | None = None) -> None:
        self._load_worker(select_id)

    @work(exclusive=True, group="products-load")
    async def _load_worker(self, select_id: int | None) -> None:
        try:
            rows = await asyncio.to_thread(self.repository().all)
        except Exception as exc:  # noqa: BLE001
            self.notify(
                escape_markup(describe_error(exc)), title="Database error", severity="error"
            )
            return
        self._show(rows, select_id)

    def _show(self, rows: list[ProductRow], select_id: int | None) -> None:
        self._loaded = True
        table = self.query_one("#products-table", DataTable)
        current = self.current_product()
        keep = select_id if select_id is not None else (current.id if current else None)
        self.products = rows
        table.clear()
        for p in rows:
            dim = "dim" if p.archived else ""
            table.add_row(
                literal(p.name, style=dim),
                Text(f"{p.active_members:,}", justify="right", style=dim),
                Text(f"{p.total_members:,}", justify="right", style=dim),
                Text("archived", style="yellow") if p.archived else Text(""),
                Text(local_day(p.created_at), style=dim),
                key=str(p.id),
            )
        if keep is not None:
            for i, p in enumerate(rows):
                if p.id == keep:
                    table.move_cursor(row=i)
        empty = self.query_one("#products-empty", Static)
        empty.display = not rows
        empty.update("No products yet. Press a to add one.")
        table.display = bool(rows)
        archived = sum(1 for p in rows if p.archived)
        self.query_one("#products-count-line", Static).update(
            plural(len(rows), "product") + (f" · {archived} archived" if archived else "")
        )
        self.refresh_bindings()

    def current_product(self) -> ProductRow | None:
        if not self.products:
            return None
        index = self.query_one("#products-table", DataTable).cursor_row
        return self.products[index] if 0 <= index < len(self.products) else None

    # -- actions ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rename", "archive", "unarchive", "show_memberships"):
            product = self.current_product()
            if product is None:
                return False
            # the one that does not apply is shown dimmed (None), not hidden
            if action == "archive":
                return None if product.archived else True
            if action == "unarchive":
                return True if product.archived else None
        return True

    @on(DataTable.RowHighlighted, "#products-table")
    def _highlighted(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#products-table")
    def _selected(self) -> None:
        self.action_show_memberships()

    def _saved(self, verb: str) -> Callable[[ProductRow | None], None]:
        def done(row: ProductRow | None) -> None:
            if row is not None:
                self.notify(f"{verb} “{escape_markup(row.name)}”.", title="Products")
                self.load(select_id=row.id)

        return done

    def action_add(self) -> None:
        repo = self.repository()
        self.app.push_screen(
            ProductNameModal("Add product", repo.add), callback=self._saved("Added")
        )

    def action_rename(self) -> None:
        product = self.current_product()
        if product is None:
            return
        repo = self.repository()
        pid = product.id
        self.app.push_screen(
            ProductNameModal(
                "Rename product",
                lambda name: repo.rename(pid, name),
                initial=product.name,
                subtitle=f"Now: {product.name}",
            ),
            callback=self._saved("Renamed to"),
        )

    def action_archive(self) -> None:
        self._set_archived(True)

    def action_unarchive(self) -> None:
        self._set_archived(False)

    def _set_archived(self, archived: bool) -> None:
        product = self.current_product()
        if product is None or product.archived == archived:
            return
        self._archive_worker(product.id, archived)

    @work(exclusive=True, group="products-archive")
    async def _archive_worker(self, product_id: int, archived: bool) -> None:
        repo = self.repository()
        try:
            row = await asyncio.to_thread(repo.archive if archived else repo.unarchive, product_id)
        except Exception as exc:  # noqa: BLE001
            self.notify(escape_markup(describe_error(exc)), severity="error")
            return
        message = (
            f"Archived “{escape_markup(row.name)}”: it keeps its memberships and is no "
            "longer offered for new ones. Press u to unarchive."
            if archived
            else f"“{escape_markup(row.name)}” is offered for new memberships again."
        )
        self.notify(message, title="Products")
        self.load(row.id)

    def action_show_memberships(self) -> None:
        product = self.current_product()
        if product is None:
            return
        app = self.app
        if "memberships" not in getattr(app, "available_screens", {}):
            return
        app.switch_mode("memberships")
        screen = app.screen
        if isinstance(screen, MembershipsScreen):
            screen.show_product(product.id)
