"""CSV import and export on the Contacts screen (issue 5): `i` and `x`.

- `open_import(screen, table)` -- the import flow (`ImportCsvModal`); after an
  import that added contacts the table reloads and a notification sums it up.
- `open_export(screen, table)` -- exports the selection (a frozen id list) if
  there is one, else the contacts the table shows (search + filter, a loaded
  segment included) to a file the user names (default
  `contacts-YYYY-MM-DD.csv` in the current directory).
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from session_tui.data.csvio.exporter import default_export_name
from session_tui.ui.modals.export_csv import ExportCsvModal, ExportOutcome, ExportScope
from session_tui.ui.modals.import_csv import ImportCsvModal, ImportOutcome
from session_tui.ui.user_text import escape_markup
from session_tui.ui.widgets.contacts.table import ContactsTable
from session_tui.ui.wording import plural


def open_import(screen: Screen[Any], table: ContactsTable) -> None:
    app = screen.app

    def done(outcome: ImportOutcome | None) -> None:
        if outcome is not None:
            app.notify(
                f"Added {outcome.added:,} · skipped (already exist) {outcome.skipped:,} · "
                f"duplicates in file {outcome.duplicates:,} · invalid {outcome.invalid:,}",
                title="Import finished",
            )
            if outcome.added:
                table.reload()
        table.focus()

    app.push_screen(ImportCsvModal(), callback=done)


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


def open_export(screen: Screen[Any], table: ContactsTable) -> None:
    app = screen.app
    if table.selection_pending:
        app.notify("Still selecting… try again in a moment.", severity="warning")
        return
    scope = export_scope(table)
    if scope.count == 0:
        app.notify("No contacts to export here.", severity="warning")
        return

    def done(outcome: ExportOutcome | None) -> None:
        if outcome is not None:
            app.notify(
                f"Exported {plural(outcome.exported)} to {escape_markup(outcome.path)}",
                title="Export finished",
            )
        table.focus()

    app.push_screen(ExportCsvModal(scope, default_export_name()), callback=done)
