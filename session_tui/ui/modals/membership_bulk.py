"""Dialogs for changing several memberships at once (the Memberships screen's selection).

- `MembershipActionsMenu` (`A`): a small menu of the three changes; dismisses with the
  chosen `BulkKind` (None: escape).
- `BulkExpiryModal(count, plan)`: the new expiry for N memberships (the same box and
  hint as the single-membership `ExpiryModal`); `BulkPaymentModal(count, plan)`: the
  new payment type (the same list as `PaymentModal`). Each counts what the change
  would do in a thread (`plan(value)`, from data/bulk_by_membership.py) and dismisses
  with that plan, which the caller shows for confirmation; nothing is written here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from session_tui.data.bulk_by_membership import MembershipPlan
from session_tui.data.bulk_common import BulkKind
from session_tui.data.models import PaymentType
from session_tui.data.validation import ValidationError
from session_tui.ui.modals.base import Dialog, cancel_binding
from session_tui.ui.modals.membership_actions import (
    MODAL_CSS,
    ApplyModal,
    StopAtEndsOptionList,
    parse_expiry,
)
from session_tui.ui.moments import Clock, relative
from session_tui.ui.wording import plural

MENU: tuple[tuple[BulkKind, str], ...] = (
    (BulkKind.EXTEND, "Extend: a new expiry date (or never)"),
    (BulkKind.PAYMENT, "Change payment type"),
    (BulkKind.CANCEL, "Cancel"),
)


def subject(count: int, *, selected: bool) -> str:
    """'the 12 selected memberships' / 'this membership'."""
    if not selected and count == 1:
        return "this membership"
    return f"the {plural(count, 'selected membership')}"


class MembershipActionsMenu(Dialog[BulkKind]):
    """What to do to the selected memberships (or the current one)."""

    CSS_PATH = MODAL_CSS
    HELP_SECTION = "Membership actions"

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("membership_actions.cancel", "Close the menu (nothing is written)"),
    ]

    def __init__(self, count: int, *, selected: bool) -> None:
        super().__init__()
        self._count = count
        self._selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label("Actions", id="title")
            yield Static(
                f"On {subject(self._count, selected=self._selected)}:", id="summary",
                markup=False,
            )
            yield StopAtEndsOptionList(
                *(Option(label, id=kind.value) for kind, label in MENU), id="actions"
            )
            yield Static("enter chooses · escape closes", classes="hint", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#actions", OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#actions")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.close(BulkKind(str(event.option.id)))


class BulkExpiryModal(ApplyModal[MembershipPlan]):
    """A new expiry date for N memberships; dismisses with the plan (counts)."""

    def __init__(
        self,
        count: int,
        plan: Callable[[datetime | None], MembershipPlan],
        clock: Clock,
        *,
        selected: bool = True,
    ) -> None:
        super().__init__()
        self._count = count
        self._plan = plan
        self._clock = clock
        self._selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label("New expiry date", id="title")
            yield Static(
                f"For {subject(self._count, selected=self._selected)}", id="summary",
                markup=False,
            )
            yield Label("Expires on (YYYY-MM-DD; empty or “never” = never expires)")
            yield Input(placeholder="YYYY-MM-DD", id="expires")
            yield Static("", id="expires-hint", markup=False)
            yield Static("", id="expires_at-error", classes="field-error")
            yield Static("", id="general-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Next", variant="primary", id="save")
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
            hint.update(f"{relative(value, now)}: the memberships will show as expired")
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
        plan = self._plan
        self.apply_in_thread(lambda: plan(value))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class BulkPaymentModal(ApplyModal[MembershipPlan]):
    """A new payment type for N memberships; dismisses with the plan (counts)."""

    def __init__(
        self,
        count: int,
        plan: Callable[[PaymentType], MembershipPlan],
        *,
        selected: bool = True,
    ) -> None:
        super().__init__()
        self._count = count
        self._plan = plan
        self._selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="membership-dialog"):
            yield Label("Payment type", id="title")
            yield Static(
                f"For {subject(self._count, selected=self._selected)}", id="summary",
                markup=False,
            )
            yield StopAtEndsOptionList(
                *(Option(p.value, id=p.value) for p in PaymentType), id="payments"
            )
            yield Static("", id="payment_type-error", classes="field-error")
            yield Static("", id="general-error", classes="field-error")
            yield Static("enter chooses · escape cancels", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.clear_errors()
        options = self.query_one("#payments", OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#payments")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        value = PaymentType(str(event.option.id))
        plan = self._plan
        self.apply_in_thread(lambda: plan(value))


__all__ = ["MENU", "BulkExpiryModal", "BulkPaymentModal", "MembershipActionsMenu", "subject"]
