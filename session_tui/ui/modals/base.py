"""The base of every dialog: `Dialog[T]` is a `ModalScreen[T | None]`.

A dialog dismisses with its result, or with None when it was cancelled and wrote
nothing. What every dialog shares lives here:

- `escape` runs `action_cancel` (declare it with `cancel_binding(id)`: each dialog
  keeps its own binding id, which config.toml's `[keymap]` names): `dismiss(None)`,
  except while a write is running (`_busy`).
- `close(result)`: dismiss once. Work that finishes after that (a dry run, a
  look-up still under way when the dialog closed) is dropped: `is_open` says
  whether results may still be shown.
- `in_thread(fn, ...)`: await `fn` run in a thread, from one of the dialog's async
  workers. When the dialog closes, its workers are cancelled, so a result that
  arrives later never reaches widgets that are gone.
- The error lines: `ErrorLine(field)` (hidden until it has something to say),
  `clear_errors()`, `show_error(field, message)` (beside the field, `#<field>-error`,
  else in `#general-error`), `hide_error(field)`; `reason(exc, ...)` words a failure.
- `cancel_button(...)`: a button that does what `escape` does; `name_field(...)`: the
  box for a name.
- `focus_input(box)`: the focus in a text box, the cursor at the end of its text.

Under 30 rows (80x24) the app gives every screen the class `-short`; each dialog's
stylesheet compacts it there (`ImportCsvModal.-short …`, `ApplyModal.-short …`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar, Generic, ParamSpec, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from session_tui.data.db import describe_error
from session_tui.data.validation import MAX_NAME
from session_tui.ui.user_text import literal

ResultT = TypeVar("ResultT")
ValueT = TypeVar("ValueT")
Params = ParamSpec("Params")


def cancel_binding(
    binding_id: str,
    description: str = "Cancel",
    *,
    action: str = "cancel",
    show: bool = True,
) -> Binding:
    """The `escape` binding of a dialog, under the dialog's own id."""
    return Binding("escape", action, description, show=show, id=binding_id)


def cancel_button(label: str = "Cancel", *, id: str = "cancel", action: str = "cancel") -> Button:
    """A button that does what the dialog's `escape` does (its `action`)."""
    return Button(label, id=id, action=f"screen.{action}")


def name_field(value: str, *, placeholder: str, id: str) -> ComposeResult:
    """The box for a name (a product's, a segment's), under a label that says the rules."""
    yield Label(f"Name (unique ignoring case, up to {MAX_NAME} characters)")
    yield Input(value=value, placeholder=placeholder, id=id, max_length=MAX_NAME + 50)


class ErrorLine(Static):
    """The line where `Dialog.show_error(field, ...)` says what is wrong with `field`
    (`#<field>-error`; "general" for the rest): hidden while there is nothing to say."""

    def __init__(self, field: str, *, classes: str = "") -> None:
        super().__init__("", id=f"{field}-error", classes=f"field-error {classes}".rstrip())
        self.display = False


def reason(exc: Exception, *expected: type[Exception]) -> str:
    """Why `exc` stopped a dialog's work, for the user: the message of an error of an
    `expected` type as it is, anything else described (`describe_error`)."""
    return str(exc) if isinstance(exc, expected) else describe_error(exc)


class Dialog(ModalScreen[ResultT | None], Generic[ResultT]):
    """A modal dialog that dismisses with a `ResultT`, or None when cancelled."""

    # Errors are one line, cut with an ellipsis; a dialog with room sets True to wrap.
    WRAP_ERRORS: ClassVar[bool] = False

    _busy = False  # a write is running: escape waits for it
    _dialog_closed = False

    @property
    def is_open(self) -> bool:
        """Not closed yet: results of its work may still be shown."""
        return not self._dialog_closed and self.is_attached

    def close(self, result: ResultT | None) -> None:
        """Dismiss with `result` (once: later calls do nothing)."""
        if self._dialog_closed:
            return
        self._dialog_closed = True
        self.dismiss(result)

    def action_cancel(self) -> None:
        if not self._busy:
            self.close(None)

    async def in_thread(
        self, fn: Callable[Params, ValueT], *args: Params.args, **kwargs: Params.kwargs
    ) -> ValueT:
        """`fn(*args, **kwargs)` in a thread, awaited (call it from an async worker)."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- error lines ---------------------------------------------------------------------
    def clear_errors(self) -> None:
        for error in self.query(".field-error").results(Static):
            error.update("")
            error.display = False

    def show_error(self, field: str, message: str) -> None:
        """`message` beside `field` (its `#<field>-error` line), else in `#general-error`."""
        found = self.query(f"#{field}-error").results(Static) if field else iter(())
        target = next(iter(found), None) or self.query_one("#general-error", Static)
        text = literal(message)
        text.no_wrap = not self.WRAP_ERRORS
        target.update(text)
        target.display = True

    def hide_error(self, field: str) -> None:
        for error in self.query(f"#{field}-error").results(Static):
            error.update("")
            error.display = False

    # -- focus -----------------------------------------------------------------------------
    def focus_input(self, box: Input) -> None:
        box.focus()
        box.cursor_position = len(box.value)
