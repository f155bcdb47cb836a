"""Segment name modal: `SegmentNameModal(title, initial="")` is a `Dialog[str]`.

Dismisses with the normalised name (the save / rename flow then asks before
replacing an existing segment); an empty or too long name is refused beside the
field; `escape` cancels and nothing is written.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from session_tui.data.repositories.segments import SegmentError, normalize_segment_name
from session_tui.ui.modals.base import Dialog, cancel_binding, cancel_button, name_field
from session_tui.ui.user_text import clean, literal


class SegmentNameModal(Dialog[str]):
    CSS_PATH = "segment_name.tcss"
    HELP_SECTION = "Segment name"

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("segment_name.cancel"),
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
            yield from name_field(
                self._initial, placeholder="e.g. Active coaching clients", id="segment-name"
            )
            yield Static("", id="segment-name-error", classes="field-error")
            with Horizontal(id="segment-buttons"):
                yield Button("Save", variant="primary", id="segment-ok")
                yield cancel_button(id="segment-cancel")

    def on_mount(self) -> None:
        self.focus_input(self.query_one("#segment-name", Input))

    @on(Input.Submitted, "#segment-name")
    @on(Button.Pressed, "#segment-ok")
    def _ok(self) -> None:
        try:
            name = normalize_segment_name(self.query_one("#segment-name", Input).value)
        except SegmentError as exc:
            self.show_error("segment-name", str(exc))
            return
        self.close(name)

    @on(Input.Changed, "#segment-name")
    def _typing(self) -> None:
        self.query_one("#segment-name-error", Static).display = False
