"""Changing the selected memberships (or the current one) from the Memberships screen:
extend, change payment type, cancel -- and undoing such a change with `u`.

Each flow is one coroutine the screen runs in a worker, top to bottom:
1. freeze the ids (`table.ids_for_action()`: exactly these are counted and changed);
2. ask for the new value (membership_bulk dialogs), which counts what the change would
   do in a thread (`plan_memberships`); cancel needs no value and is counted directly;
3. confirm with those counts ("Extend 312 memberships (never expires); 17 are cancelled
   and are left alone"); an expiry in the past asks once more;
4. apply in one transaction in a thread (`apply_membership_plan`), with a progress
   dialog and Cancel for large selections; push a `MembershipBulkChange` on the app's
   undo stack (`session(screen).undo`) and say that `u` undoes it.

`undo_last(screen, table)` undoes the newest entry when it is a `MembershipBulkChange`
(`undo_bulk`: refused, nothing written, when someone changed those memberships since).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual.screen import Screen

from session_tui.data.bulk_by_membership import (
    MembershipAction,
    MembershipBulkResult,
    MembershipPlan,
    apply_membership_plan,
    plan_memberships,
)
from session_tui.data.bulk_common import BulkCancelled, BulkKind
from session_tui.data.bulk_undo import UndoConflict, undo_bulk
from session_tui.data.db import describe_error
from session_tui.data.enums import PaymentType
from session_tui.data.validation import ValidationError
from session_tui.ui.context import session
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.membership_bulk import (
    BulkExpiryModal,
    BulkPaymentModal,
    MembershipActionsMenu,
    subject,
)
from session_tui.ui.modals.progress import ProgressModal
from session_tui.ui.screens.membership_changes import refresh_contacts_screen
from session_tui.ui.user_text import escape_markup
from session_tui.ui.widgets.memberships.table import MembershipsTable
from session_tui.ui.wording import plural

PROGRESS_FROM = 1_000  # show a progress dialog from this many memberships

_VERBS = {BulkKind.EXTEND: "Extend", BulkKind.PAYMENT: "Change", BulkKind.CANCEL: "Cancel"}
_DOING = {
    BulkKind.EXTEND: "Extending",
    BulkKind.PAYMENT: "Changing",
    BulkKind.CANCEL: "Cancelling",
}


@dataclass(frozen=True)
class MembershipBulkChange:
    """Memberships changed together on the Memberships screen; `u` puts them back."""

    result: MembershipBulkResult
    ids: frozenset[int]  # the frozen selection it acted on
    was_selection: bool

    def describe(self) -> str:
        return f"undoes “{self.result.undo.label}”"


def _error(screen: Screen[None], message: str) -> None:
    screen.app.notify(escape_markup(message), title="Error", severity="error", timeout=10)


def _reason(exc: Exception) -> str:
    """Why a change or an undo failed: our own refusals say it themselves, anything
    else is told as a database error."""
    if isinstance(exc, ValidationError):
        return exc.message
    if isinstance(exc, UndoConflict | BulkCancelled):
        return str(exc)
    return describe_error(exc)


def _busy(screen: Screen[None]) -> bool:
    if session(screen).undo.busy:
        screen.app.notify("Another change or undo is still running.", severity="warning")
        return True
    return False


async def choose_action(screen: Screen[None], table: MembershipsTable) -> None:
    """`A`: the menu of changes for the selection (or the current membership)."""
    ids = _frozen(screen, table)
    if ids is None:
        return
    kind = await screen.app.push_screen_wait(
        MembershipActionsMenu(len(ids), selected=bool(table.selected_ids()))
    )
    if kind is None:
        table.focus()
        return
    await change_selected(screen, table, kind, ids)


def _frozen(screen: Screen[None], table: MembershipsTable) -> frozenset[int] | None:
    if table.selection_pending:
        screen.app.notify("Still selecting… try again in a moment.", severity="warning")
        return None
    ids = table.ids_for_action()
    if not ids:
        screen.app.notify("No membership here.", severity="warning")
        return None
    return ids


async def change_selected(
    screen: Screen[None],
    table: MembershipsTable,
    kind: BulkKind,
    ids: frozenset[int] | None = None,
) -> None:
    """Extend, change the payment type of, or cancel the selected memberships (or
    `ids`, frozen by the caller): ask, count, confirm, apply, offer undo."""
    if ids is None:
        ids = _frozen(screen, table)
        if ids is None:
            return
    if _busy(screen):
        return
    undo = session(screen).undo
    undo.busy = True
    try:
        await _change(screen, table, kind, ids, was_selection=bool(table.selected_ids()))
    finally:
        undo.busy = False


async def _ask_plan(
    screen: Screen[None], kind: BulkKind, ids: frozenset[int], selected: bool
) -> MembershipPlan | None:
    ctx = session(screen)
    db, clock = ctx.db, ctx.clock
    if kind is BulkKind.EXTEND:
        return await screen.app.push_screen_wait(
            BulkExpiryModal(
                len(ids),
                lambda value: plan_memberships(
                    db, MembershipAction.extend(value), ids, clock=clock
                ),
                clock,
                selected=selected,
            )
        )
    if kind is BulkKind.PAYMENT:

        def plan_payment(value: PaymentType) -> MembershipPlan:
            return plan_memberships(db, MembershipAction.payment(value), ids, clock=clock)

        return await screen.app.push_screen_wait(
            BulkPaymentModal(len(ids), plan_payment, selected=selected)
        )
    try:
        return await asyncio.to_thread(
            plan_memberships, db, MembershipAction.cancel(), ids, clock=clock
        )
    except Exception as exc:  # noqa: BLE001 - shown to the user
        _error(screen, f"Nothing was changed: {describe_error(exc)}")
        return None


async def _change(
    screen: Screen[None],
    table: MembershipsTable,
    kind: BulkKind,
    ids: frozenset[int],
    *,
    was_selection: bool,
) -> None:
    app, ctx = screen.app, session(screen)
    plan = await _ask_plan(screen, kind, ids, was_selection)
    if plan is None:
        table.focus()
        return
    counts = plan.counts
    if not counts.changed:
        app.notify(
            escape_markup(f"Nothing to change: {plan.sentence}."), title="Memberships", timeout=8
        )
        table.focus()
        return
    body = [f"{plan.sentence}.", "", "Press u afterwards to undo it."]
    confirm = ConfirmModal(
        f"{_VERBS[kind]} {plural(counts.changed, 'membership')}?",
        body,
        yes=f"{_VERBS[kind]} {plural(counts.changed, 'membership')}",
        no="Back",
        danger=kind is BulkKind.CANCEL,
    )
    if not await app.push_screen_wait(confirm):
        table.focus()
        return
    allow_past = None
    if plan.past_warning:
        again = ConfirmModal(
            "The new expiry date is in the past",
            [f"{plan.past_warning[0].upper()}{plan.past_warning[1:]}. Go ahead?"],
            yes="Yes, make them expired",
            no="Back",
            danger=True,
            default_yes=False,
        )
        if not await app.push_screen_wait(again):
            table.focus()
            return
        allow_past = True
    progress: ProgressModal | None = None
    if len(ids) >= PROGRESS_FROM:
        progress = ProgressModal(
            f"{_DOING[kind]} {plural(len(ids), 'membership')}", unit="memberships"
        )
        app.push_screen(progress)
    try:
        result = await asyncio.to_thread(
            apply_membership_plan,
            ctx.db,
            plan,
            allow_past=allow_past,
            progress=progress.report if progress else None,
            cancelled=progress.cancel_requested.is_set if progress else None,
            clock=ctx.clock,
        )
    except BulkCancelled:
        app.notify("Cancelled: nothing was changed.")
        return
    except Exception as exc:  # noqa: BLE001 - shown to the user
        _error(screen, f"Nothing was changed: {_reason(exc)}")
        return
    finally:
        if progress is not None and progress.is_attached:
            progress.dismiss(None)
        table.focus()
    if not result.undo.empty:
        ctx.undo.push(MembershipBulkChange(result, ids, was_selection))
    table.reload()
    refresh_contacts_screen(screen)
    app.notify(
        escape_markup(f"{result.counts.sentence}.") + " — press [b]u[/b] to undo.",
        title="Memberships",
        timeout=10,
    )


async def undo_last(screen: Screen[None], table: MembershipsTable) -> None:
    """`u`: undo the newest change when it was made here."""
    if _busy(screen):
        return
    ctx = session(screen)
    entry = ctx.undo.peek()
    if entry is None:
        screen.app.notify("Nothing to undo.")
        return
    if not isinstance(entry, MembershipBulkChange):
        screen.app.notify(
            escape_markup(
                f"The last change ({entry.describe()}) is undone on the Contacts "
                "screen (c, then u)."
            ),
        )
        return
    ctx.undo.busy = True
    try:
        done = await asyncio.to_thread(undo_bulk, ctx.db, entry.result.undo)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        _error(screen, f"Undo failed: {_reason(exc)}")
        return
    finally:
        ctx.undo.busy = False
    ctx.undo.discard(entry)
    if entry.was_selection:
        table.select_ids(entry.ids)
    table.reload()
    refresh_contacts_screen(screen)
    gone = f" ({plural(done.gone, 'membership')} no longer existed)" if done.gone else ""
    screen.app.notify(escape_markup(f"Undone: {done.label}{gone}."), title="Undone", timeout=8)


__all__ = [
    "PROGRESS_FROM",
    "MembershipBulkChange",
    "change_selected",
    "choose_action",
    "subject",
    "undo_last",
]
