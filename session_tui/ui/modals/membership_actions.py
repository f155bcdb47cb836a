"""Modals that change one membership: new expiry date, payment type, cancel (confirm).

Each modal is a typed `Dialog[MembershipRow]` (None: cancelled): it shows the membership,
asks for the change, runs `apply(value)` (a repository call given by the caller) in a
worker thread, and dismisses with the changed row. A `ValidationError` is shown
inside the modal and nothing is written; `escape` cancels and writes nothing.

`ApplyModal` is the shared base (also used by the add-membership and product-name
modals): `self.apply_in_thread(fn)` runs `fn()` in a thread; `on_applied(result)`
dismisses; a failure is shown beside its field (`Dialog.show_error`). `form_footer(...)`
ends each form: the general error line and the buttons. `ValueModal` asks for one new
value (an expiry, a payment type) of the membership(s) its summary line names.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from session_tui.data.clock import date_to_dt, parse_date
from session_tui.data.db import describe_error
from session_tui.data.enums import PaymentType
from session_tui.data.repositories.memberships import MembershipRow
from session_tui.data.validation import ValidationError
from session_tui.ui.modals.base import Dialog, ErrorLine, cancel_binding, cancel_button
from session_tui.ui.moments import Clock, day, relative
from session_tui.ui.user_text import clean, literal

R = TypeVar("R")
V = TypeVar("V")

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


def form_footer(*buttons: Button) -> ComposeResult:
    """The end of a form: the line for errors of no one field, then the row of `buttons`."""
    yield ErrorLine("general")
    yield Horizontal(*buttons, classes="buttons")


def expiry_hint(text: str, now: datetime, *, never: str, past: str) -> str:
    """The hint under an expiry box: empty for nonsense (saving says what is wrong),
    `never` for no expiry, `past` for a date that has passed (its `{when}`: how long
    ago), else when it expires."""
    try:
        _, value = parse_expiry(text)
    except ValidationError:
        return ""
    if value is None:
        return never
    if value <= now:
        return past.format(when=relative(value, now))
    return f"expires {relative(value, now)}"


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


class ValueModal(ApplyModal[R], Generic[V, R]):
    """Asks for one new value of the membership(s) its summary line names, and runs
    `apply(value)` in a thread."""

    HEADING: ClassVar[str]

    def __init__(self, apply: Callable[[V], R]) -> None:
        super().__init__()
        self._apply = apply

    @abstractmethod
    def summary(self) -> Static:
        """The line under the title: which membership(s) the dialog changes."""

    @abstractmethod
    def fields(self) -> ComposeResult:
        """What the dialog asks, under the summary line."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label(self.HEADING, id="title")
            yield self.summary()
            yield from self.fields()

    def apply_value(self, value: V) -> None:
        self.apply_in_thread(partial(self._apply, value))


class ExpiryEntryModal(ValueModal[datetime | None, R]):
    """The expiry-date box (YYYY-MM-DD; empty or "never" = never expires) with a live
    hint; the button runs `apply(value)` in a thread. Subclasses give the summary line."""

    HEADING = "New expiry date"
    SAVE_LABEL: ClassVar[str] = "Save"
    # The hint for a date that has passed ({when}: how long ago).
    PAST_HINT: ClassVar[str] = "{when}: the membership will show as expired"

    def __init__(
        self, apply: Callable[[datetime | None], R], clock: Clock, *, initial: str = ""
    ) -> None:
        super().__init__(apply)
        self._clock = clock
        self._initial = initial

    def fields(self) -> ComposeResult:
        yield Label("Expires on (YYYY-MM-DD; empty or “never” = never expires)")
        yield Input(value=self._initial, placeholder="YYYY-MM-DD", id="expires")
        yield Static("", id="expires-hint", markup=False)
        yield ErrorLine("expires_at")
        yield from form_footer(
            Button(self.SAVE_LABEL, variant="primary", id="save"), cancel_button()
        )

    def on_mount(self) -> None:
        box = self.query_one("#expires", Input)
        self.focus_input(box)
        self._update_hint(box.value)

    @on(Input.Changed, "#expires")
    def _changed(self, event: Input.Changed) -> None:
        self._update_hint(event.value)

    def _update_hint(self, text: str) -> None:
        hint = expiry_hint(text, self._clock(), never="never expires", past=self.PAST_HINT)
        self.query_one("#expires-hint", Static).update(hint)

    @on(Input.Submitted, "#expires")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.clear_errors()
        try:
            _, value = parse_expiry(self.query_one("#expires", Input).value)
        except ValidationError as exc:
            self.show_error(exc.field, exc.message)
            return
        self.apply_value(value)


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


class PaymentChoiceModal(ValueModal[PaymentType, R]):
    """The list of payment types; enter runs `apply(type)` in a thread. With a
    `current` type, the list opens on it, marks it, and choosing it writes nothing."""

    HEADING = "Payment type"

    def __init__(self, apply: Callable[[PaymentType], R], *, current: str | None = None) -> None:
        super().__init__(apply)
        self._current = current

    def fields(self) -> ComposeResult:
        options = [
            Option(f"{p.value}  (current)" if p.value == self._current else p.value, id=p.value)
            for p in PaymentType
        ]
        yield StopAtEndsOptionList(*options, id="payments")
        yield ErrorLine("payment_type")
        yield ErrorLine("general")
        yield Static("enter chooses · escape cancels", classes="hint", markup=False)

    def on_mount(self) -> None:
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
        self.apply_value(value)


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
            yield from form_footer(
                Button("Yes, cancel it (y)", variant="error", id="yes", action="screen.confirm"),
                cancel_button("No, keep it (n)", id="no"),
            )

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_confirm(self) -> None:
        self.apply_in_thread(self._apply)
