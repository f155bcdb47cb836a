"""A reusable yes/no confirmation: `ConfirmModal(...)` is a `Dialog[bool]`.

    if await app.push_screen_wait(ConfirmModal("Delete 3 contacts?", body, yes="Delete")):
        ...

True on `y`, or enter / a click on the yes button; False on `n`, `escape`, or the
no button. `body` is a list of lines: plain strings are shown
literally (never parsed as markup), Rich `Text` as given -- build those with
`session_tui.ui.user_text.literal()` for anything that came from a user or a file.
`default_yes` picks the button that has focus first (enter presses it).

`type_to_confirm="1204"`: a big, dangerous answer must be typed -- a text box
takes the keys, yes stays disabled until it holds exactly that text (thousands
separators allowed), enter then confirms; `escape` still cancels. The delete
dialog asks for the count this way above `confirm_large_delete_above` of
config.toml (`count_to_type`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from session_tui.ui.modals.base import Dialog, cancel_binding
from session_tui.ui.user_text import literal


def count_to_type(app: object, count: int) -> str | None:
    """The count to type before deleting `count` items, or None when y/enter do.

    Above `confirm_large_delete_above` of the app's settings (config.toml).
    """
    settings = getattr(app, "settings", None)
    threshold = getattr(settings, "confirm_large_delete_above", None)
    if not isinstance(threshold, int) or count <= threshold:
        return None
    return str(count)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch not in ", _.'\u00a0\u202f")


class ConfirmModal(Dialog[bool]):
    """Ask a yes/no question; dismisses with True (yes) or False (no / escape)."""

    CSS_PATH = "confirm.tcss"
    HELP_SECTION = "Confirm"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        cancel_binding("confirm.cancel", action="answer(False)", show=False),
        Binding("left,right", "switch_button", "Other button", show=False, id="confirm.switch"),
    ]

    def __init__(
        self,
        title: str,
        body: Sequence[str | Text] = (),
        *,
        yes: str = "Yes",
        no: str = "No",
        danger: bool = False,
        default_yes: bool = True,
        hint: str = "",
        type_to_confirm: str | None = None,
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self._type_to_confirm = type_to_confirm
        self._title = title
        self._body = list(body)
        self._yes = yes
        self._no = no
        self._danger = danger
        self._default_yes = default_yes
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(literal(self._title), id="confirm-title")
            for i, line in enumerate(self._body):
                text = literal(line) if isinstance(line, str) else line
                text.no_wrap = False
                yield Static(text, classes="confirm-line", id=f"confirm-line-{i}")
            if self._hint:
                hint = literal(self._hint)
                hint.no_wrap = False
                yield Static(hint, id="confirm-hint")
            if self._type_to_confirm is not None:
                yield Input(
                    placeholder=f"type {self._type_to_confirm} to confirm · escape cancels",
                    id="confirm-count",
                )
            with Horizontal(id="confirm-buttons"):
                typed = self._type_to_confirm is not None
                yield Button(
                    f"{self._yes}" if typed else f"{self._yes} (y)",
                    variant="error" if self._danger else "primary",
                    id="confirm-yes",
                    disabled=typed,
                )
                yield Button(f"{self._no}" if typed else f"{self._no} (n)", id="confirm-no")

    def on_mount(self) -> None:
        if self._type_to_confirm is not None:
            self.query_one("#confirm-count", Input).focus()
            return
        self.query_one("#confirm-yes" if self._default_yes else "#confirm-no", Button).focus()

    def _typed_ok(self) -> bool:
        if self._type_to_confirm is None:
            return True
        typed = self.query_one("#confirm-count", Input).value
        return _digits(typed) == _digits(self._type_to_confirm)

    @on(Input.Changed, "#confirm-count")
    def _count_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#confirm-yes", Button).disabled = not self._typed_ok()

    @on(Input.Submitted, "#confirm-count")
    def _count_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typed_ok():
            self.close(True)
        else:
            self.notify(
                f"Type {self._type_to_confirm} to confirm, or press escape to cancel.",
                severity="warning",
                markup=False,
            )

    def action_answer(self, answer: bool) -> None:
        if answer and not self._typed_ok():
            return
        self.close(answer)

    def action_switch_button(self) -> None:
        yes = self.query_one("#confirm-yes", Button)
        no = self.query_one("#confirm-no", Button)
        (no if self.focused is yes else yes).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _pressed_yes(self, event: Button.Pressed) -> None:
        event.stop()
        if self._typed_ok():
            self.close(True)

    @on(Button.Pressed, "#confirm-no")
    def _pressed_no(self, event: Button.Pressed) -> None:
        event.stop()
        self.close(False)
