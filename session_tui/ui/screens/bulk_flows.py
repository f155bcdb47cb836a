"""The actions menu of the Contacts screen (`A`): the flow behind it.

`open_menu(screen, table, then)` freezes the ids the menu acts on -- the selected
contacts, or the current one when nothing is selected -- and opens the menu;
`run_choice(screen, table, request, choice)`, one coroutine the Contacts screen runs
in its own worker (`@work`), then does the chosen action on exactly those ids:

- grant, extend, payment type, cancel: the action's dialog (`BulkActionDialog`,
  which counts the action: `data.bulk_memberships.plan_bulk`), then a confirmation
  showing those counts (`plan.sentence`) before anything is written; an expiry in the
  past asks once more (`plan.past_warning`). The action then runs in one transaction
  in a thread (`apply_plan`), with a progress dialog and cancel from
  `contact_actions.PROGRESS_FROM` contacts on; its undo record goes on the app's
  undo stack (`BulkChange`) and a toast sums up the result and names what `u` undoes.
  A product archived or deleted meanwhile is refused with the reason, nothing
  written; contacts deleted meanwhile are counted as gone and skipped.
- export: the export dialog with those ids (`ExportCsvModal`).
- delete: the delete flow with those ids (`contact_actions.delete_selected`).

History events name the actor as every change made in the TUI does: the OS user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.screen import Screen

from session_tui.data.bulk_memberships import (
    BulkKind,
    BulkPlan,
    BulkResult,
    apply_plan,
)
from session_tui.data.validation import ValidationError
from session_tui.ui.context import session
from session_tui.ui.modals.actions_menu import ActionsMenu, BulkChoice
from session_tui.ui.modals.bulk_dialogs import BulkActionDialog
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.export_csv import ExportScope
from session_tui.ui.screens import contact_actions, csv_flows
from session_tui.ui.undo import BulkChange
from session_tui.ui.user_text import clean, escape_markup
from session_tui.ui.widgets.contacts.table import ContactsTable
from session_tui.ui.wording import plural

KINDS = {
    BulkChoice.GRANT: BulkKind.GRANT,
    BulkChoice.EXTEND: BulkKind.EXTEND,
    BulkChoice.PAYMENT: BulkKind.PAYMENT,
    BulkChoice.CANCEL: BulkKind.CANCEL,
}
# (confirmation title, yes button, progress title, toast title) per action
WORDS = {
    BulkKind.GRANT: ("Grant “{}”?", "Grant", "Granting “{}”", "Granted"),
    BulkKind.EXTEND: ("Extend “{}”?", "Extend", "Extending “{}”", "Extended"),
    BulkKind.PAYMENT: (
        "Change the payment type of “{}”?",
        "Change",
        "Changing “{}”",
        "Payment type changed",
    ),
    BulkKind.CANCEL: ("Cancel “{}”?", "Cancel them", "Cancelling “{}”", "Cancelled"),
}


def menu_subject(table: ContactsTable, ids: frozenset[int]) -> str:
    """What the menu acts on: "3 selected contacts", or the current contact's name
    (its email when it has none)."""
    if table.selected_ids():
        return plural(len(ids), "selected contact")
    row = table.current_row
    if row is None or row.id not in ids:
        return plural(len(ids))
    return clean(row.full_name or row.email)


@dataclass(frozen=True)
class MenuRequest:
    """What the menu acts on, frozen when it opens."""

    ids: frozenset[int]
    subject: str  # "3 selected contacts" / "Ann Smith"


def open_menu(
    screen: Screen[None],
    table: ContactsTable,
    then: Callable[[MenuRequest, BulkChoice], object],
) -> None:
    """Freeze the ids and open the menu at once -- keys typed right after `A` go to
    it -- then `then(request, choice)` (the screen runs `run_choice` in a worker)."""
    ids = contact_actions.ids_to_act_on(screen, table, "No contact to act on here.")
    if ids is None:
        return
    request = MenuRequest(ids, menu_subject(table, ids))

    def chosen(choice: BulkChoice | None) -> None:
        if choice is None:
            table.focus()
        else:
            then(request, choice)

    screen.app.push_screen(ActionsMenu(request.subject), chosen)


async def run_choice(
    screen: Screen[None], table: ContactsTable, request: MenuRequest, choice: BulkChoice
) -> None:
    """The chosen action on the frozen ids."""
    if choice is BulkChoice.EXPORT:
        await export_ids(screen, table, request.ids, request.subject)
    elif choice is BulkChoice.DELETE:
        await contact_actions.delete_selected(screen, table, request.ids)
    else:
        await run_bulk(screen, table, KINDS[choice], request.ids, request.subject)


# -- export ------------------------------------------------------------------------------
async def export_ids(
    screen: Screen[None], table: ContactsTable, ids: frozenset[int], subject: str
) -> None:
    what = f"the {subject}" if table.selected_ids() else f"{plural(len(ids))} ({subject})"
    await csv_flows.export_to_file(screen, table, ExportScope(what, len(ids), ids=ids))


# -- grant, extend, payment type, cancel ---------------------------------------------------
async def run_bulk(
    screen: Screen[None],
    table: ContactsTable,
    kind: BulkKind,
    ids: frozenset[int],
    subject: str,
) -> None:
    if contact_actions.undo_busy(screen):
        return
    undo = session(screen).undo
    undo.busy = True
    try:
        await _ask_and_apply(screen, table, kind, tuple(sorted(ids)), subject)
    finally:
        undo.busy = False


def confirmation(plan: BulkPlan) -> ConfirmModal:
    """The confirmation of a counted action: its sentence, before anything is written."""
    title, yes, _, _ = WORDS[plan.action.kind]
    product = clean(plan.counts.product)
    return ConfirmModal(
        title.format(product),
        [plan.sentence],
        yes=yes,
        no="No",
        danger=plan.action.kind is BulkKind.CANCEL,
        hint="Nothing is written until you confirm; u undoes it afterwards.",
    )


def past_confirmation(warning: str) -> ConfirmModal:
    return ConfirmModal(
        "The expiry date is in the past",
        [f"{warning[:1].upper()}{warning[1:]}.", "Go ahead all the same?"],
        yes="Go ahead",
        no="No",
        danger=True,
        default_yes=False,
    )


async def _ask_and_apply(
    screen: Screen[None],
    table: ContactsTable,
    kind: BulkKind,
    ids: tuple[int, ...],
    subject: str,
) -> None:
    app, ctx = screen.app, session(screen)
    plan: BulkPlan | None = await app.push_screen_wait(
        BulkActionDialog(kind, subject, ids, ctx.db, ctx.clock)
    )
    if plan is None:
        table.focus()
        return
    if plan.counts.touched == 0:
        app.notify(escape_markup(f"Nothing to change: {plan.sentence}."), title="Nothing done")
        table.focus()
        return
    if not await app.push_screen_wait(confirmation(plan)):
        app.notify("Cancelled: nothing was changed.")
        table.focus()
        return
    warning = plan.past_warning
    if warning is not None and not await app.push_screen_wait(past_confirmation(warning)):
        app.notify("Cancelled: nothing was changed.")
        table.focus()
        return
    result = await _apply(screen, table, plan, past=warning is not None)
    table.reload()
    table.focus()
    if result is not None:
        _done(screen, result)


_APPLY_TOASTS = contact_actions.JobToasts(
    "Cancelled: nothing was changed.", "Nothing was changed", explained=(ValidationError,)
)


async def _apply(
    screen: Screen[None], table: ContactsTable, plan: BulkPlan, *, past: bool
) -> BulkResult | None:
    """Apply the confirmed plan in a thread, with progress for large selections;
    None (and a toast) when it was cancelled or refused: then nothing was written."""
    ctx = session(screen)
    title = WORDS[plan.action.kind][2].format(clean(plan.counts.product))
    job = partial(apply_plan, ctx.db, plan, allow_past=True if past else None, clock=ctx.clock)
    return await contact_actions.run_job(screen, table, job, title, len(plan.ids), _APPLY_TOASTS)


def _done(screen: Screen[None], result: BulkResult) -> None:
    """The toast after an action: what was done, and what `u` undoes now."""
    counts = result.counts
    sentence = counts.sentence.replace("this will make", "made")
    title = WORDS[counts.kind][3]
    if result.undo.empty:
        screen.app.notify(escape_markup(f"Nothing changed: {sentence}."), title=title)
        return
    entry = BulkChange(result.undo, clean(counts.product), counts.touched)
    session(screen).undo.push(entry)
    screen.app.notify(
        escape_markup(f"{sentence}.") + f" Press [b]u[/b] to undo {escape_markup(entry.what())}.",
        title=title,
        timeout=10,
    )


__all__ = ["MenuRequest", "menu_subject", "open_menu", "run_bulk", "run_choice"]
