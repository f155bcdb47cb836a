"""Segment name modal: `SegmentNameModal(title, initial="")` is a `ModalScreen[str | None]`.

Dismisses with the normalised name (the save / rename flow then asks before
replacing an existing segment); an empty or too long name is refused beside the
field; `escape` cancels and nothing is written.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from session_tui.data.repositories.segments import SegmentError, normalize_segment_name
from session_tui.data.validation import MAX_NAME
from session_tui.ui.user_text import clean, literal


class SegmentNameModal(ModalScreen[str | None]):
    CSS_PATH = "segment_name.tcss"
    HELP_SECTION = "Segment name"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="segment_name.cancel"),
    ]

    def __init__(self, title: str, initial: str = "", summary: str = "") -> None:
        super().__init__()
        self._title = title
        self._initial = clean(initial)
        self._summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(id="segment-dialog"):
            yield Label(literal(self._title), id="segment-title")
            if self._summary:
                summary = literal(self._summary)
                summary.no_wrap = False
                yield Static(summary, id="segment-summary")
            yield Label(f"Name (unique ignoring case, up to {MAX_NAME} characters)")
            yield Input(
                value=self._initial,
                placeholder="e.g. Active coaching clients",
                id="segment-name",
                max_length=MAX_NAME + 50,
            )
            yield Static("", id="segment-name-error", classes="field-error")
            with Horizontal(id="segment-buttons"):
                yield Button("Save", variant="primary", id="segment-ok")
                yield Button("Cancel", id="segment-cancel")

    def on_mount(self) -> None:
        name = self.query_one("#segment-name", Input)
        name.focus()
        name.cursor_position = len(name.value)

    @on(Input.Submitted, "#segment-name")
    @on(Button.Pressed, "#segment-ok")
    def _ok(self) -> None:
        error = self.query_one("#segment-name-error", Static)
        try:
            name = normalize_segment_name(self.query_one("#segment-name", Input).value)
        except SegmentError as exc:
            error.update(literal(str(exc)))
            error.display = True
            return
        self.dismiss(name)

    @on(Input.Changed, "#segment-name")
    def _typing(self) -> None:
        self.query_one("#segment-name-error", Static).display = False

    @on(Button.Pressed, "#segment-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
