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
from textual.containers import Vertical
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from session_tui.data.bulk_by_membership import MembershipPlan
from session_tui.data.bulk_common import BulkKind
from session_tui.data.enums import PaymentType
from session_tui.ui.modals.base import Dialog, cancel_binding
from session_tui.ui.modals.membership_actions import (
    MODAL_CSS,
    ExpiryEntryModal,
    PaymentChoiceModal,
    StopAtEndsOptionList,
)
from session_tui.ui.moments import Clock
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


def bulk_summary(count: int, *, selected: bool) -> Static:
    return Static(f"For {subject(count, selected=selected)}", id="summary", markup=False)


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
                f"On {subject(self._count, selected=self._selected)}:",
                id="summary",
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


class BulkExpiryModal(ExpiryEntryModal[MembershipPlan]):
    """A new expiry date for N memberships; dismisses with the plan (counts)."""

    SAVE_LABEL = "Next"
    PAST_HINT = "{when}: the memberships will show as expired"

    def __init__(
        self,
        count: int,
        plan: Callable[[datetime | None], MembershipPlan],
        clock: Clock,
        *,
        selected: bool = True,
    ) -> None:
        super().__init__(plan, clock)
        self._count = count
        self._selected = selected

    def summary(self) -> Static:
        return bulk_summary(self._count, selected=self._selected)


class BulkPaymentModal(PaymentChoiceModal[MembershipPlan]):
    """A new payment type for N memberships; dismisses with the plan (counts)."""

    def __init__(
        self,
        count: int,
        plan: Callable[[PaymentType], MembershipPlan],
        *,
        selected: bool = True,
    ) -> None:
        super().__init__(plan)
        self._count = count
        self._selected = selected

    def summary(self) -> Static:
        return bulk_summary(self._count, selected=self._selected)


__all__ = ["MENU", "BulkExpiryModal", "BulkPaymentModal", "MembershipActionsMenu", "subject"]
