"""Delete, undo and edit on the Contacts table: the flows behind `d`/`delete`, `u`, `e`.

Each flow is one coroutine that the Contacts screen runs in its own worker
(`@work`), top to bottom: ask (a dialog, awaited), do the database work in a
thread (awaited), then say what happened.

- `delete_selected(screen, table)` -- the selected contacts, or the current one:
  freezes the ids, shows a confirmation (`ConfirmModal`) with how many and the
  first few names/emails, then deletes exactly those ids
  (`data.deletion.delete_contacts`: backup file first). Large deletes show a
  `ProgressModal` with Cancel (cancelling before the commit deletes nothing).
- `undo_last(screen, table)` -- takes back the newest undoable change of this
  session, of any kind: a deletion is restored from its backup (same ids,
  memberships, history); a bulk membership action of the actions menu
  (bulk_flows.py) is undone from its undo record (`data.bulk_undo.undo_bulk`),
  refused with the reason when someone changed those memberships since. Pressing
  `u` again undoes the one before. Deletion backups stay on disk (`session-tui
  restore`), but once the app is closed `u` cannot reach them: deletion is then
  permanent.
- `edit_current(screen, table)` -- re-reads the current contact and opens
  `EditContactModal`.

What `u` can undo lives on the app (`session(screen).undo`, ui/undo.py), so a
deletion can be undone whatever screens were visited in between.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

from rich.text import Text
from textual.screen import Screen

from session_tui import locations
from session_tui.data.bulk_common import CancelFn, ProgressFn
from session_tui.data.bulk_undo import UndoConflict, undo_bulk
from session_tui.data.db import describe_error
from session_tui.data.deletion import (
    BackupError,
    Cancelled,
    PreviewRow,
    RestoreConflict,
    delete_contacts,
    preview,
    restore_backup,
)
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.ui.context import SessionContext, session
from session_tui.ui.modals.confirm import ConfirmModal, count_to_type
from session_tui.ui.modals.edit_contact import EditContactModal
from session_tui.ui.modals.file_to_write import display_path
from session_tui.ui.modals.progress import ProgressModal
from session_tui.ui.undo import BulkChange, Deletion, Undoable
from session_tui.ui.user_text import escape_markup, literal
from session_tui.ui.widgets.contacts.table import ContactsTable
from session_tui.ui.wording import plural

PREVIEW = 5  # names shown in the confirmation
PROGRESS_FROM = 1_000  # show a progress dialog from this many contacts

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Job(Protocol[T_co]):
    """A database job that reports its progress and stops (writing nothing) when
    `cancelled()` says so: `partial(delete_contacts, db, ids)`."""

    def __call__(self, *, progress: ProgressFn | None, cancelled: CancelFn | None) -> T_co: ...


def undo_available(app: SessionContext) -> int:
    """How many changes `u` can still undo in this session."""
    return len(app.undo)


@dataclass(frozen=True)
class _UndoState:
    busy: bool
    undo: tuple[Deletion, ...]


def _state(app: SessionContext) -> _UndoState:
    """A read-only look at the app's undo stack: is a deletion or undo running,
    and the deletions `u` can undo, oldest first."""
    return _UndoState(app.undo.busy, tuple(e for e in app.undo if isinstance(e, Deletion)))


def on_screen(table: ContactsTable, ids: frozenset[int], limit: int) -> list[PreviewRow]:
    """Up to `limit` of these contacts as the table shows them, top to bottom
    (the visible rows, then the current one; no database access)."""
    out: list[PreviewRow] = []
    top = round(table.scroll_y)
    indexes = [*range(top, top + table.body_height), table.cursor_index]
    for index in indexes:
        row = table.row_at(index)
        if row is None or row.id not in ids or any(r.id == row.id for r in out):
            continue
        out.append(PreviewRow(row.id, row.first_name, row.last_name, row.email))
        if len(out) >= limit:
            break
    return out


def confirm_body(ids: frozenset[int], rows: list[PreviewRow]) -> list[str | Text]:
    body: list[str | Text] = []
    for row in rows:
        line = Text("• ")
        if row.full_name:
            line.append_text(literal(row.full_name, style="bold"))
            line.append("  ")
        line.append_text(literal(row.email, style="dim" if row.full_name else ""))
        body.append(line)
    if len(ids) > len(rows):
        body.append(Text(f"  … and {plural(len(ids) - len(rows), 'more contact')}", style="dim"))
    body.append("")
    body.append("Their memberships and membership history are deleted too.")
    body.append(
        "Press u to undo until you close session-tui; after that the deletion is permanent."
    )
    return body


def show_error(screen: Screen[None], message: str) -> None:
    screen.app.notify(escape_markup(message), title="Error", severity="error", timeout=10)


def undo_busy(screen: Screen[None]) -> bool:
    """A change or an undo is running (says so): start no other."""
    if session(screen).undo.busy:
        screen.app.notify(
            "A deletion, a bulk action or an undo is still running.", severity="warning"
        )
        return True
    return False


def still_selecting(screen: Screen[None], table: ContactsTable) -> bool:
    """A select-all or invert is still being computed (says so): act on nothing yet."""
    if table.selection_pending:
        screen.app.notify("Still selecting… try again in a moment.", severity="warning")
        return True
    return False


def ids_to_act_on(
    screen: Screen[None], table: ContactsTable, nothing_here: str
) -> frozenset[int] | None:
    """The selected contacts, or the current one, frozen now: exactly these are shown
    and changed. None, said, while still selecting or when there is no contact here."""
    if still_selecting(screen, table):
        return None
    ids = table.ids_for_action()
    if not ids:
        screen.app.notify(nothing_here, severity="warning")
        return None
    return ids


def show_progress(screen: Screen[None], title: str, size: int) -> ProgressModal | None:
    """A progress dialog, shown from `PROGRESS_FROM` contacts on."""
    if size < PROGRESS_FROM:
        return None
    modal = ProgressModal(title)
    screen.app.push_screen(modal)
    return modal


def close_progress(modal: ProgressModal | None) -> None:
    if modal is not None and modal.is_attached:
        modal.dismiss(None)


@dataclass(frozen=True)
class JobToasts:
    """What a job's toasts say when it did not go through: `cancelled` after Cancel,
    an error toast starting with `failed` otherwise. Errors of the `explained` kinds
    say why themselves, others are told as database errors; those of the `passed_on`
    kinds are left to the caller."""

    cancelled: str
    failed: str
    explained: tuple[type[Exception], ...] = ()
    passed_on: tuple[type[Exception], ...] = ()


async def run_job(
    screen: Screen[None],
    table: ContactsTable,
    job: Job[T],
    title: str,
    size: int,
    toasts: JobToasts,
) -> T | None:
    """`job` run in a thread, with a progress dialog titled `title` (and Cancel) when it
    handles `size` >= `PROGRESS_FROM` contacts. None when it was cancelled (the focus
    goes back to `table`) or failed: then nothing was written, and a toast says so.
    An error of the `toasts.passed_on` kinds is raised again, once the dialog is closed."""
    progress = show_progress(screen, title, size)
    try:
        return await asyncio.to_thread(
            job,
            progress=progress.report if progress else None,
            cancelled=progress.cancel_requested.is_set if progress else None,
        )
    except Cancelled:
        screen.app.notify(toasts.cancelled)
        table.focus()
    except toasts.passed_on:
        raise
    except toasts.explained as exc:
        show_error(screen, f"{toasts.failed}: {exc}")
    except Exception as exc:  # noqa: BLE001 - shown to the user
        show_error(screen, f"{toasts.failed}: {describe_error(exc)}")
    finally:
        close_progress(progress)
    return None


def next_undo(app: SessionContext) -> str:
    """What `u` undoes now, as a sentence to append to a toast (empty: nothing)."""
    entry = app.undo.peek()
    return "" if entry is None else f" Next, u {entry.describe()}."


# -- delete ---------------------------------------------------------------------------
_DELETE_TOASTS = JobToasts("Cancelled: nothing was deleted.", "Nothing was deleted")


async def delete_selected(
    screen: Screen[None], table: ContactsTable, ids: frozenset[int] | None = None
) -> None:
    """Delete `ids` (frozen by the caller: the actions menu), else the selected
    contacts or the current one."""
    if undo_busy(screen):
        return
    if ids is None:
        ids = ids_to_act_on(screen, table, "No contact to delete here.")
        if ids is None:
            return
    undo = session(screen).undo
    undo.busy = True
    try:
        await _confirm_and_delete(screen, table, ids, was_selection=bool(table.selected_ids()))
    finally:
        undo.busy = False


async def _confirm_and_delete(
    screen: Screen[None], table: ContactsTable, ids: frozenset[int], *, was_selection: bool
) -> None:
    app, db = screen.app, session(screen).db
    rows = on_screen(table, ids, PREVIEW)
    try:
        if len(rows) < min(PREVIEW, len(ids)):
            seen = {r.id for r in rows}
            rows += await asyncio.to_thread(preview, db, ids - seen, PREVIEW - len(rows))
    except Exception as exc:  # noqa: BLE001 - shown to the user
        show_error(screen, f"Nothing was deleted: {describe_error(exc)}")
        return
    n = len(ids)
    confirm = ConfirmModal(
        f"Delete {plural(n)}?",
        confirm_body(ids, rows),
        yes=f"Delete {plural(n)}",
        no="Cancel",
        danger=True,
        hint=f"A backup is written to {display_path(locations.backups_dir())} first.",
        type_to_confirm=count_to_type(app, n),
    )
    if not await app.push_screen_wait(confirm):
        table.focus()
        return

    job = partial(delete_contacts, db, ids)
    result = await run_job(screen, table, job, f"Deleting {plural(n)}", n, _DELETE_TOASTS)
    if result is None:
        return
    session(screen).undo.push(Deletion(result, was_selection))
    table.discard_ids(result.ids)
    table.reload()
    table.focus()
    gone = f" ({plural(result.missing)} had already been deleted)" if result.missing else ""
    app.notify(
        f"Deleted {plural(result.contacts)}{gone} — press [b]u[/b] to undo.",
        title="Deleted",
        timeout=10,
    )


# -- undo -----------------------------------------------------------------------------
_RESTORE_TOASTS = JobToasts(
    "Cancelled: nothing was restored; u tries again.",
    "Undo failed",
    explained=(RestoreConflict, BackupError),
)
# A conflict leaves the stack (see `_undo_bulk`): it is not told as a failure.
_UNDO_TOASTS = JobToasts(
    "Cancelled: nothing was undone; u tries again.", "Undo failed", passed_on=(UndoConflict,)
)


async def undo_last(screen: Screen[None], table: ContactsTable) -> None:
    if undo_busy(screen):
        return
    undo = session(screen).undo
    entry = undo.peek()
    if entry is None:
        screen.app.notify(
            "Nothing to undo: no contacts were deleted and no bulk action was made "
            "since session-tui started."
        )
        return
    undo.busy = True
    try:
        await _undo_entry(screen, table, entry)
    finally:
        undo.busy = False


async def _undo_entry(screen: Screen[None], table: ContactsTable, entry: Undoable) -> None:
    if isinstance(entry, Deletion):
        await _restore(screen, table, entry)
    elif isinstance(entry, BulkChange):
        await _undo_bulk(screen, table, entry)
    else:  # a change of the Memberships screen: undone there
        screen.app.notify(
            escape_markup(
                f"The last change ({entry.describe()}) is undone on the Memberships "
                "screen (m, then u)."
            ),
        )


async def _restore(screen: Screen[None], table: ContactsTable, deletion: Deletion) -> None:
    app, ctx = screen.app, session(screen)
    n = deletion.result.contacts
    job = partial(restore_backup, ctx.db, deletion.result.backup_path)
    restored = await run_job(screen, table, job, f"Restoring {plural(n)}", n, _RESTORE_TOASTS)
    if restored is None:
        return
    ctx.undo.discard(deletion)
    if deletion.was_selection:
        table.select_ids(deletion.result.ids)
    table.reload()
    table.focus()
    app.notify(
        f"Restored {plural(deletion.result.contacts)} with their memberships and history."
        + escape_markup(next_undo(ctx)),
        title="Undone",
    )


async def _undo_bulk(screen: Screen[None], table: ContactsTable, change: BulkChange) -> None:
    app, ctx = screen.app, session(screen)
    n = change.memberships
    try:
        job = partial(undo_bulk, ctx.db, change.record)
        result = await run_job(screen, table, job, f"Undoing {change.what()}", n, _UNDO_TOASTS)
    except UndoConflict as exc:
        # Those memberships changed since: this entry can never be undone as it
        # stands, so it leaves the stack and `u` reaches the older ones.
        ctx.undo.discard(change)
        show_error(screen, f"Undo refused: {exc}.{next_undo(ctx)}")
        table.focus()
        return
    if result is None:
        return
    ctx.undo.discard(change)
    table.reload()
    table.focus()
    gone = f" ({plural(result.gone, 'membership')} no longer existed)" if result.gone else ""
    app.notify(
        escape_markup(f"Took back {change.what()}{gone}.{next_undo(ctx)}"),
        title="Undone",
    )


# -- edit -----------------------------------------------------------------------------


async def edit_current(screen: Screen[None], table: ContactsTable) -> None:
    app, db = screen.app, session(screen).db
    row = table.current_row
    if row is None:
        app.notify("No contact to edit here.", severity="warning")
        return
    try:
        fresh = await asyncio.to_thread(ContactsRepository(db).get, row.id)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        app.notify(escape_markup(describe_error(exc)), severity="error")
        return
    if fresh is None:
        app.notify("This contact was deleted meanwhile.", severity="warning")
        table.reload()
        return
    saved = await app.push_screen_wait(EditContactModal(db, fresh))
    table.focus()
    if saved is None:
        return
    table.reload()
    who = saved.full_name or saved.email
    app.notify(f"Saved {escape_markup(who)}.", title="Contact")
