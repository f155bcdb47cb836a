"""Modals that change one membership: new expiry date, payment type, cancel (confirm).

Each modal is a typed `Dialog[MembershipRow]` (None: cancelled): it shows the membership,
asks for the change, runs `apply(value)` (a repository call given by the caller) in a
worker thread, and dismisses with the changed row. A `ValidationError` is shown
inside the modal and nothing is written; `escape` cancels and writes nothing.

`ApplyModal` is the shared base (also used by the add-membership and product-name
modals): `self.apply_in_thread(fn)` runs `fn()` in a thread; `on_applied(result)`
dismisses; a failure is shown beside its field (`Dialog.show_error`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from session_tui.data.clock import date_to_dt, parse_date
from session_tui.data.db import describe_error
from session_tui.data.models import PaymentType
from session_tui.data.repositories.memberships import MembershipRow
from session_tui.data.validation import ValidationError
from session_tui.ui.modals.base import Dialog, cancel_binding
from session_tui.ui.moments import Clock, day, relative
from session_tui.ui.user_text import clean, literal

R = TypeVar("R")

# One stylesheet for every modal of memberships and products (absolute: subclasses
# live in other modules, and Textual resolves relative paths from the subclass).
MODAL_CSS = str(Path(__file__).with_name("membership_modals.tcss"))


class ApplyModal(Dialog[R]):
    """A dialog that applies its change in a thread and dismisses with the result."""

    CSS_PATH = MODAL_CSS

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("modal.cancel", "Cancel (nothing is written)"),
    ]

    def apply_in_thread(self, fn: Callable[[], R]) -> None:
        if self._busy:
            return
        self._busy = True
        self.clear_errors()
        self._apply_worker(fn)

    @work(exclusive=True, group="modal-apply")
    async def _apply_worker(self, fn: Callable[[], R]) -> None:
        try:
            result = await self.in_thread(fn)
        except ValidationError as exc:
            self._failed(exc.field, exc.message)
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            self._failed("", describe_error(exc))
            return
        self.on_applied(result)

    def _failed(self, field: str, message: str) -> None:
        self._busy = False
        self.show_error(field or "general", message)

    def on_applied(self, result: R) -> None:
        self._busy = False
        self.close(result)


def membership_summary(row: MembershipRow, now: datetime) -> str:
    who = row.full_name or row.email
    if row.cancelled_at is not None:
        state = f"cancelled {relative(row.cancelled_at, now)}"
    elif row.expires_at is None:
        state = "never expires"
    elif row.expires_at > now:
        state = f"expires {day(row.expires_at)} ({relative(row.expires_at, now)})"
    else:
        state = f"expired {day(row.expires_at)} ({relative(row.expires_at, now)})"
    return f"{who} · {row.product} · {row.payment_type} · {state}"


def parse_expiry(text: str) -> tuple[bool, datetime | None]:
    """(ok, value) for an expiry box: empty or "never" = never expires; else YYYY-MM-DD.

    Raises ValidationError("expires_at", …) with a clear message for nonsense."""
    text = clean(text).strip()
    if not text or text.lower() == "never":
        return True, None
    try:
        return True, date_to_dt(parse_date(text))
    except ValueError as exc:
        raise ValidationError("expires_at", str(exc)) from None


class ExpiryEntryModal(ApplyModal[R]):
    """The expiry-date box (YYYY-MM-DD; empty or "never" = never expires) with a live
    hint; the button runs `apply(value)` in a thread. Subclasses give the summary line."""

    SAVE_LABEL: ClassVar[str] = "Save"
    # Who the hint speaks of: "… the membership will show as expired".
    HINT_SUBJECT: ClassVar[str] = "the membership"

    def __init__(
        self, apply: Callable[[datetime | None], R], clock: Clock, *, initial: str = ""
    ) -> None:
        super().__init__()
        self._apply = apply
        self._clock = clock
        self._initial = initial

    @abstractmethod
    def summary(self) -> Static:
        """The line under the title: which membership(s) the dialog changes."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label("New expiry date", id="title")
            yield self.summary()
            yield Label("Expires on (YYYY-MM-DD; empty or “never” = never expires)")
            yield Input(value=self._initial, placeholder="YYYY-MM-DD", id="expires")
            yield Static("", id="expires-hint", markup=False)
            yield Static("", id="expires_at-error", classes="field-error")
            yield Static("", id="general-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button(self.SAVE_LABEL, variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.clear_errors()
        box = self.query_one("#expires", Input)
        self.focus_input(box)
        self._update_hint(box.value)

    @on(Input.Changed, "#expires")
    def _changed(self, event: Input.Changed) -> None:
        self._update_hint(event.value)

    def _update_hint(self, text: str) -> None:
        hint = self.query_one("#expires-hint", Static)
        try:
            _, value = parse_expiry(text)
        except ValidationError:
            hint.update("")
            return
        now = self._clock()
        if value is None:
            hint.update("never expires")
        elif value <= now:
            hint.update(f"{relative(value, now)}: {self.HINT_SUBJECT} will show as expired")
        else:
            hint.update(f"expires {relative(value, now)}")

    @on(Input.Submitted, "#expires")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.clear_errors()
        try:
            _, value = parse_expiry(self.query_one("#expires", Input).value)
        except ValidationError as exc:
            self.show_error(exc.field, exc.message)
            return
        apply = self._apply
        self.apply_in_thread(lambda: apply(value))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class ExpiryModal(ExpiryEntryModal[MembershipRow]):
    """A new expiry date for a membership (`x` on a membership)."""

    def __init__(
        self, row: MembershipRow, apply: Callable[[datetime | None], MembershipRow], clock: Clock
    ) -> None:
        super().__init__(apply, clock, initial=day(row.expires_at, never=""))
        self.row = row

    def summary(self) -> Static:
        return Static(literal(membership_summary(self.row, self._clock())), id="summary")


class StopAtEndsOptionList(OptionList):
    """up / down stop at the first / last option: no wrap-around, so overshooting never
    lands on a value at the other end (it changed payment types by mistake)."""

    def action_cursor_up(self) -> None:
        if self.highlighted is not None and self.highlighted <= 0:
            return
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.highlighted is not None and self.highlighted >= self.option_count - 1:
            return
        super().action_cursor_down()


class PaymentChoiceModal(ApplyModal[R]):
    """The list of payment types; enter runs `apply(type)` in a thread. With a
    `current` type, the list opens on it, marks it, and choosing it writes nothing."""

    def __init__(self, apply: Callable[[PaymentType], R], *, current: str | None = None) -> None:
        super().__init__()
        self._apply = apply
        self._current = current

    @abstractmethod
    def summary(self) -> Static:
        """The line under the title: which membership(s) the dialog changes."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label("Payment type", id="title")
            yield self.summary()
            options = [
                Option(f"{p.value}  (current)" if p.value == self._current else p.value, id=p.value)
                for p in PaymentType
            ]
            yield StopAtEndsOptionList(*options, id="payments")
            yield Static("", id="payment_type-error", classes="field-error")
            yield Static("", id="general-error", classes="field-error")
            yield Static("enter chooses · escape cancels", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.clear_errors()
        options = self.query_one("#payments", OptionList)
        values = [p.value for p in PaymentType]
        # Open on the current type: enter right away changes nothing.
        options.highlighted = values.index(self._current) if self._current in values else 0
        options.focus()

    @on(OptionList.OptionSelected, "#payments")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        value = PaymentType(str(event.option.id))
        if value.value == self._current:
            self.close(None)  # the current type: nothing to change, nothing written
            return
        apply = self._apply
        self.apply_in_thread(lambda: apply(value))


class PaymentModal(PaymentChoiceModal[MembershipRow]):
    """Change a membership's payment type (`t` on a membership)."""

    def __init__(
        self, row: MembershipRow, apply: Callable[[PaymentType], MembershipRow], clock: Clock
    ) -> None:
        super().__init__(apply, current=row.payment_type)
        self.row = row
        self._clock = clock

    def summary(self) -> Static:
        return Static(literal(membership_summary(self.row, self._clock())), id="summary")


class CancelMembershipModal(ApplyModal[MembershipRow]):
    """Confirm cancelling a membership (`d` / `delete` on a membership)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes, cancel the membership", id="confirm.yes"),
        Binding("n", "cancel", "No, keep it", id="confirm.no"),
    ]

    def __init__(
        self, row: MembershipRow, apply: Callable[[], MembershipRow], clock: Clock
    ) -> None:
        super().__init__()
        self.row = row
        self._apply = apply
        self._clock = clock

    def compose(self) -> ComposeResult:
        who = self.row.full_name or self.row.email
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label("Cancel membership?", id="title")
            yield Static(literal(membership_summary(self.row, self._clock())), id="summary")
            text = literal(
                f"Cancel the “{self.row.product}” membership of {who}? It ends now. "
                "The history keeps it, and adding the product again reactivates it."
            )
            text.no_wrap = False
            yield Static(text, id="question")
            yield Static("", id="general-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Yes, cancel it (y)", variant="error", id="yes")
                yield Button("No, keep it (n)", id="no")

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#no", Button).focus()

    def action_confirm(self) -> None:
        apply = self._apply
        self.apply_in_thread(apply)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.action_cancel()
