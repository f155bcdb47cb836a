"""Product name modal: add a product or rename one (Products screen `a` / `r`).

`ProductNameModal(title, apply, initial="")` is a `Dialog[ProductRow]`:
`apply(name)` (ProductsRepository.add or .rename) runs in a worker; its
ValidationError (empty, too long, duplicate ignoring case) is shown beside the field
and nothing is written; `escape` cancels.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Static

from session_tui.data.repositories.products import ProductRow
from session_tui.ui.modals.base import ErrorLine, cancel_button, name_field
from session_tui.ui.modals.membership_actions import ApplyModal, form_footer
from session_tui.ui.user_text import clean, literal


class ProductNameModal(ApplyModal[ProductRow]):
    def __init__(
        self,
        title: str,
        apply: Callable[[str], ProductRow],
        initial: str = "",
        subtitle: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._apply = apply
        self._initial = clean(initial)
        self._subtitle = subtitle

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="title", markup=False)
            if self._subtitle:
                yield Static(literal(self._subtitle), id="summary")
            yield from name_field(self._initial, placeholder="e.g. 1:1 Coaching", id="name")
            yield ErrorLine("name")
            yield from form_footer(Button("Save", variant="primary", id="save"), cancel_button())

    def on_mount(self) -> None:
        self.focus_input(self.query_one("#name", Input))

    @on(Input.Submitted, "#name")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.apply_in_thread(partial(self._apply, self.query_one("#name", Input).value))
