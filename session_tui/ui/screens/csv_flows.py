"""CSV import and export on the Contacts screen: the flows behind `i` and `x`.

Each is a coroutine the Contacts screen runs in its own worker: it opens the
dialog, waits for it to close, then sums up what happened.

- `import_contacts(screen, table)` -- the import dialog (`ImportCsvModal`); after an
  import that added contacts (or granted memberships) the table reloads and a
  notification sums it up, the memberships granted included.
- `export_contacts(screen, table)` -- exports the selection (a frozen id list) if
  there is one, else the contacts the table shows (search + filter, a loaded
  segment included) to a file the user names (default
  `contacts-YYYY-MM-DD.csv` in the current directory).
- `export_to_file(screen, table, scope)` -- the export dialog for a scope chosen
  elsewhere (the actions menu's export).
"""

from __future__ import annotations

from textual.screen import Screen

from session_tui.data.csvio.exporter import default_export_name
from session_tui.ui.modals.export_csv import ExportCsvModal, ExportOutcome, ExportScope
from session_tui.ui.modals.import_csv import ImportCsvModal, ImportOutcome
from session_tui.ui.screens.contact_actions import still_selecting
from session_tui.ui.user_text import escape_markup
from session_tui.ui.widgets.contacts.table import ContactsTable
from session_tui.ui.wording import plural


async def import_contacts(screen: Screen[None], table: ContactsTable) -> None:
    app = screen.app
    outcome: ImportOutcome | None = await app.push_screen_wait(ImportCsvModal())
    if outcome is not None:
        memberships = outcome.memberships_text()
        app.notify(
            f"Added {outcome.added:,} · skipped (already exist) {outcome.skipped:,} · "
            f"duplicates in file {outcome.duplicates:,} · invalid {outcome.invalid:,}"
            + (f" · {memberships}" if memberships else ""),
            title="Import finished",
        )
        if outcome.added or outcome.memberships.any:
            table.reload()
    table.focus()


def export_scope(table: ContactsTable) -> ExportScope:
    selected = table.selected_ids()
    if selected:
        return ExportScope(
            f"the {plural(len(selected), 'selected contact')}",
            len(selected),
            ids=frozenset(selected),
        )
    query = table.contact_query
    count = table.count
    restricted = query.filter is not None or bool(query.search.strip())
    if restricted:
        what = "current filter" if query.filter is not None else "current search"
        n = plural(count) if count is not None else "the contacts"
        return ExportScope(f"{n} of the {what}", count, query=query)
    n = f"all {plural(count)}" if count is not None else "all contacts"
    return ExportScope(n, count, query=query)


async def export_contacts(screen: Screen[None], table: ContactsTable) -> None:
    if still_selecting(screen, table):
        return
    scope = export_scope(table)
    if scope.count == 0:
        screen.app.notify("No contacts to export here.", severity="warning")
        return
    await export_to_file(screen, table, scope)


async def export_to_file(screen: Screen[None], table: ContactsTable, scope: ExportScope) -> None:
    """The export dialog for `scope`; a toast names the file written."""
    app = screen.app
    outcome: ExportOutcome | None = await app.push_screen_wait(
        ExportCsvModal(scope, default_export_name())
    )
    if outcome is not None:
        app.notify(
            f"Exported {plural(outcome.exported)} to {escape_markup(outcome.path)}",
            title="Export finished",
        )
    table.focus()
