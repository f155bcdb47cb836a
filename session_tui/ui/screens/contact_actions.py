"""Delete, undo and edit on the Contacts table (issue 3 -- the safety net).

The Contacts screen binds `d`/`delete`, `u` and `e` to these functions:

- `delete_selected(screen, table)` -- the selected contacts, or the current one:
  freezes the ids, shows a confirmation (`ConfirmModal`) with how many and the
  first few names/emails, then deletes exactly those ids in a thread worker
  (`data.deletion.delete_contacts`: backup file first). Large deletes show a
  `ProgressModal` with Cancel (cancelling before the commit deletes nothing).
- `undo_delete(screen, table)` -- restores the last deletion of this session
  from its backup (same ids, memberships, history); pressing `u` again undoes
  the one before. The backups stay on disk (`session-tui restore`), but once the
  app is closed `u` cannot reach them: deletion is then permanent.
- `edit_current(screen, table)` -- re-reads the current contact and opens
  `EditContactModal`.

Undo state lives per app (a deletion made on this screen can be undone as long as
the app runs, whatever screens were visited in between).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from rich.text import Text
from textual.app import App
from textual.screen import Screen

from session_tui import locations
from session_tui.data.db import Database, describe_error
from session_tui.data.deletion import (
    BackupError,
    Cancelled,
    DeleteResult,
    PreviewRow,
    RestoreConflict,
    delete_contacts,
    preview,
    restore_backup,
)
from session_tui.data.repositories.contacts import ContactRow, ContactsRepository
from session_tui.ui.modals.confirm import ConfirmModal, count_to_type
from session_tui.ui.modals.edit_contact import EditContactModal
from session_tui.ui.modals.progress import ProgressModal
from session_tui.ui.user_text import escape_markup, literal
from session_tui.ui.widgets.contacts.table import ContactsTable
from session_tui.ui.wording import plural

PREVIEW = 5  # names shown in the confirmation
PROGRESS_FROM = 1_000  # show a progress dialog from this many contacts


@dataclass
class _Deletion:
    result: DeleteResult
    was_selection: bool


@dataclass
class _State:
    undo: list[_Deletion] = field(default_factory=list)
    busy: bool = False


_STATES: WeakKeyDictionary[App[Any], _State] = WeakKeyDictionary()


def _state(app: App[Any]) -> _State:
    state = _STATES.get(app)
    if state is None:
        state = _STATES[app] = _State()
    return state


def undo_available(app: App[Any]) -> int:
    """How many deletions `u` can still undo in this session."""
    return len(_state(app).undo)


def _db(app: App[Any]) -> Database:
    return app.db  # type: ignore[attr-defined, no-any-return]


def _busy_notice(app: App[Any]) -> bool:
    if _state(app).busy:
        app.notify("A deletion or undo is still running.", severity="warning")
        return True
    return False


# -- delete ---------------------------------------------------------------------------


def delete_selected(screen: Screen[Any], table: ContactsTable) -> None:
    app = screen.app
    if _busy_notice(app):
        return
    if table.selection_pending:
        app.notify("Still selecting… try again in a moment.", severity="warning")
        return
    ids = table.ids_for_action()  # frozen here: exactly these are shown and deleted
    if not ids:
        app.notify("No contact to delete here.", severity="warning")
        return
    was_selection = bool(table.selected_ids())
    state = _state(app)
    state.busy = True
    db = _db(app)

    shown = on_screen(table, ids, PREVIEW)

    def fetch() -> None:
        rows = list(shown)
        try:
            if len(rows) < min(PREVIEW, len(ids)):
                seen = {r.id for r in rows}
                rows += preview(db, ids - seen, PREVIEW - len(rows))
        except Exception as exc:  # noqa: BLE001 - shown to the user
            app.call_from_thread(_failed, app, f"Nothing was deleted: {describe_error(exc)}")
            return
        app.call_from_thread(_confirm_delete, screen, table, ids, rows, was_selection)

    screen.run_worker(fetch, thread=True, exclusive=True, group="contacts-delete")


def display_path(path: Path) -> str:
    """`path` with the home directory shown as `~`."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


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


def _failed(app: App[Any], message: str) -> None:
    _state(app).busy = False
    app.notify(escape_markup(message), title="Error", severity="error", timeout=10)


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


def _confirm_delete(
    screen: Screen[Any],
    table: ContactsTable,
    ids: frozenset[int],
    rows: list[PreviewRow],
    was_selection: bool,
) -> None:
    app = screen.app
    n = len(ids)
    modal = ConfirmModal(
        f"Delete {plural(n)}?",
        confirm_body(ids, rows),
        yes=f"Delete {plural(n)}",
        no="Cancel",
        danger=True,
        hint=f"A backup is written to {display_path(locations.backups_dir())} first.",
        type_to_confirm=count_to_type(app, n),
    )

    def answered(yes: bool | None) -> None:
        if not yes:
            _state(app).busy = False
            table.focus()
            return
        _run_delete(screen, table, ids, was_selection)

    app.push_screen(modal, callback=answered)


def _run_delete(
    screen: Screen[Any], table: ContactsTable, ids: frozenset[int], was_selection: bool
) -> None:
    app = screen.app
    db = _db(app)
    progress = _progress_modal(app, f"Deleting {plural(len(ids))}", len(ids))

    def work() -> None:
        try:
            result = delete_contacts(
                db,
                ids,
                progress=_progress_callback(app, progress),
                cancelled=progress.cancel_requested.is_set if progress else None,
            )
        except Cancelled:
            app.call_from_thread(_finish, app, progress, table, "Cancelled: nothing was deleted.")
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user
            app.call_from_thread(_close_progress, progress)
            app.call_from_thread(_failed, app, f"Nothing was deleted: {describe_error(exc)}")
            return
        app.call_from_thread(_deleted, app, progress, table, result, was_selection)

    screen.run_worker(work, thread=True, exclusive=True, group="contacts-delete")


def _progress_modal(app: App[Any], title: str, size: int) -> ProgressModal | None:
    if size < PROGRESS_FROM:
        return None
    modal = ProgressModal(title)
    app.push_screen(modal)
    return modal


def _progress_callback(
    app: App[Any], modal: ProgressModal | None
) -> Callable[[int, int], None] | None:
    if modal is None:
        return None

    return modal.report


def _close_progress(modal: ProgressModal | None) -> None:
    if modal is not None and modal.is_attached:
        modal.dismiss(None)


def _finish(app: App[Any], modal: ProgressModal | None, table: ContactsTable, note: str) -> None:
    _close_progress(modal)
    _state(app).busy = False
    app.notify(note)
    table.focus()


def _deleted(
    app: App[Any],
    modal: ProgressModal | None,
    table: ContactsTable,
    result: DeleteResult,
    was_selection: bool,
) -> None:
    _close_progress(modal)
    state = _state(app)
    state.busy = False
    state.undo.append(_Deletion(result, was_selection))
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


def undo_delete(screen: Screen[Any], table: ContactsTable) -> None:
    app = screen.app
    if _busy_notice(app):
        return
    state = _state(app)
    if not state.undo:
        app.notify("Nothing to undo: no contacts were deleted since session-tui started.")
        return
    deletion = state.undo[-1]
    state.busy = True
    db = _db(app)
    n = deletion.result.contacts
    progress = _progress_modal(app, f"Restoring {plural(n)}", n)

    def work() -> None:
        try:
            restore_backup(
                db,
                deletion.result.backup_path,
                progress=_progress_callback(app, progress),
                cancelled=progress.cancel_requested.is_set if progress else None,
            )
        except Cancelled:
            app.call_from_thread(
                _finish, app, progress, table, "Cancelled: nothing was restored; u tries again."
            )
            return
        except (RestoreConflict, BackupError) as exc:
            app.call_from_thread(_close_progress, progress)
            app.call_from_thread(_failed, app, f"Undo failed: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user
            app.call_from_thread(_close_progress, progress)
            app.call_from_thread(_failed, app, f"Undo failed: {describe_error(exc)}")
            return
        app.call_from_thread(_restored, app, progress, table, deletion)

    screen.run_worker(work, thread=True, exclusive=True, group="contacts-delete")


def _restored(
    app: App[Any], modal: ProgressModal | None, table: ContactsTable, deletion: _Deletion
) -> None:
    _close_progress(modal)
    state = _state(app)
    state.busy = False
    if state.undo and state.undo[-1] is deletion:
        state.undo.pop()
    if deletion.was_selection:
        table.select_ids(deletion.result.ids)
    table.reload()
    table.focus()
    more = f" ({len(state.undo)} earlier deletion(s) can be undone too)" if state.undo else ""
    app.notify(
        f"Restored {plural(deletion.result.contacts)} with their memberships and history.{more}",
        title="Undone",
    )


# -- edit -----------------------------------------------------------------------------


def edit_current(screen: Screen[Any], table: ContactsTable) -> None:
    app = screen.app
    row = table.current_row
    if row is None:
        app.notify("No contact to edit here.", severity="warning")
        return
    db = _db(app)

    def fetch() -> None:
        try:
            fresh = ContactsRepository(db).get(row.id)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            app.call_from_thread(app.notify, escape_markup(describe_error(exc)), severity="error")
            return
        app.call_from_thread(_open_editor, app, table, fresh)

    screen.run_worker(fetch, thread=True, exclusive=True, group="contacts-edit")


def _open_editor(app: App[Any], table: ContactsTable, row: ContactRow | None) -> None:
    if row is None:
        app.notify("This contact was deleted meanwhile.", severity="warning")
        table.reload()
        return

    def done(saved: ContactRow | None) -> None:
        table.focus()
        if saved is None:
            return
        table.reload()
        who = saved.full_name or saved.email
        app.notify(f"Saved {escape_markup(who)}.", title="Contact")

    app.push_screen(EditContactModal(_db(app), row), callback=done)
