"""The Contacts screen: search box, the virtual contacts table, a live count line.

Interface for the other features on this screen
-----------------------------------------------
- `screen.table` -> the `ContactsTable` (see widgets/contacts/table.py: `contact_query`,
  `reload()`, `current_row`, `selection`, `selected_ids()`, `ids_for_action()`,
  `clear_selection()`, `discard_ids()`, messages `CountChanged`, `Highlighted`,
  `SelectionChanged`).
- `screen.search_input` -> the search `Input` (`/` focuses it).
- `screen.set_filter(filter_or_None)` -> shows only contacts matching a filter
  (`data.filters.Group`); the search text stays.
- `screen.refresh_contacts()` -> re-read counts and rows after a database change.
- Keys: add a `Key(key, action, description, name)` row (ui/key_table.py; its id is
  "contacts.{name}") to `ContactsScreen.BINDINGS` and an `action_…` method; keys are
  listed in `?` help and the command palette automatically. Reserved for other features:
  `d`/`delete`, `u`, `e`, `enter`, `a`, `A`, `f`, `s`, `i`, `x`.
- Flows: each user flow (delete, undo, edit: contact_actions.py; the actions menu:
  bulk_flows.py; segments: segment_flows.py; CSV: csv_flows.py) is one coroutine run
  in a worker the screen owns (`@work`), so its dialogs are awaited with
  `push_screen_wait`. The filter panel only posts messages (`FilterPanel.Applied`,
  `Left`, `SaveRequested`…); the screen handles them here.
- Layout: `#search-row` (the search box), `#contacts-table`, `#empty-state`,
  `#status-bar` (`#count-line`, `#key-hint`). The filter builder is mounted into
  `#contacts-main`, before `#contacts-table`, the first time `f` is pressed, and the
  demo's progress bar (`#demo-progress`) into `#empty-state` when `D` is: neither is
  loaded nor built before (start-up: docs/performance.md).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, Static
from textual.worker import get_current_worker

from session_tui.data.db import Database, describe_error
from session_tui.data.filters import Group
from session_tui.data.repositories.contacts import ContactQuery
from session_tui.lazy import lazy_module
from session_tui.ui.context import session
from session_tui.ui.filter_help import FILTER_SYNTAX
from session_tui.ui.key_table import HIDDEN, SHOWN, Key, key_table
from session_tui.ui.screens.table_search import TableSearch, search_keys
from session_tui.ui.user_text import escape_markup
from session_tui.ui.widgets.contacts.table import ContactsTable
from session_tui.ui.widgets.filter_panel import messages as panel_messages
from session_tui.ui.widgets.footer import Footer
from session_tui.ui.widgets.paged_table.count_line import count_line as table_count_line

if TYPE_CHECKING:
    from textual.widgets import ProgressBar

    from session_tui.ui.modals.actions_menu import BulkChoice
    from session_tui.ui.screens import (
        bulk_flows,
        contact_actions,
        csv_flows,
        membership_flows,
        segment_flows,
    )
    from session_tui.ui.widgets.filter_panel.panel import FilterPanel
else:  # the flows (and their dialogs) load at their first use, not at start
    bulk_flows = lazy_module("session_tui.ui.screens.bulk_flows")
    contact_actions = lazy_module("session_tui.ui.screens.contact_actions")
    csv_flows = lazy_module("session_tui.ui.screens.csv_flows")
    membership_flows = lazy_module("session_tui.ui.screens.membership_flows")
    segment_flows = lazy_module("session_tui.ui.screens.segment_flows")

DEMO_CONTACTS = 2000

# A flow of the Contacts screen: one coroutine, from its first dialog to its last toast.
Flow = Callable[[Screen[None], ContactsTable], Coroutine[Any, Any, None]]


# The contacts' count line, e.g. "1,204 of 52,310 contacts · 3 selected (1 hidden by the
# filter)": the tables' shared wording, with "contact" for the noun.
count_line = partial(table_count_line, "contact", restricted_by="filter")


def _is_text_box(widget: object) -> bool:
    """An Input or a TextArea (whose module is loaded once a TextArea exists; none at
    start)."""
    text_area = sys.modules.get("textual.widgets._text_area")
    return isinstance(widget, Input) or (
        text_area is not None and isinstance(widget, text_area.TextArea)
    )


class ContactsScreen(TableSearch[ContactQuery]):
    """The start screen: every contact, searchable, selectable."""

    CSS_PATH = "contacts.tcss"
    HELP_SECTION = "Contacts"
    HELP_EXTRA = ("Filter syntax", FILTER_SYNTAX)
    AUTO_FOCUS = "#contacts-table"
    SEARCH_ID = "search"

    _demo_running = False  # generating demo data (`D`): the key is off meanwhile

    # fmt: off
    BINDINGS: ClassVar[list[BindingType]] = key_table(
        "contacts",
        *search_keys(leave_tooltip="Leave the search box, back to the table (the search stays)"),
        Key("down", "leave_search", "Back to the table", "search_down", HIDDEN, priority=True),
        Key("D", "fill_demo", "Demo data", "demo", SHOWN,
            "Fill the empty database with demo data"),
        Key("ctrl+r,f5", "refresh_contacts", "Refresh", "refresh", HIDDEN,
            "Re-read the contacts: see what other users or programs changed"),
        Key("enter", "open_contact", "Open", "detail", SHOWN,
            "Contact detail: memberships and history"),
        Key("a", "add_membership", "Add", "add_membership", SHOWN,
            "Add a membership (prefilled with the current contact)"),
        # the actions menu: bulk_flows.py
        Key("A", "actions_menu", "Actions", "actions", SHOWN,
            "Actions: grant, extend, payment, cancel, export, delete"),
        # delete, undo, edit: contact_actions.py
        Key("d,delete", "delete_contacts", "Delete", "delete", SHOWN,
            "Delete the selected contacts, or the current one (permanent once the app is closed)"),
        Key("u", "undo_last", "Undo", "undo", HIDDEN,
            "Undo the last deletion or bulk action (this session)"),
        Key("e", "edit_contact", "Edit", "edit", SHOWN,
            "Edit the current contact's name and email"),
        # CSV import and export: csv_flows.py
        # (shown in ? help and the command palette; the footer has no room left)
        Key("i", "import_csv", "Import", "import", HIDDEN,
            "Import contacts from a CSV file (preview first)"),
        Key("x", "export_csv", "Export", "export", HIDDEN,
            "Export the selection, or the filtered contacts, to CSV"),
        # filters (widgets/filter_panel/) and segments (segment_flows.py)
        Key("f", "toggle_filter", "Filter", "filter", SHOWN,
            "Show/hide the filter builder (the filter stays applied when hidden)"),
        Key("s", "save_segment", "Save segment", "save_segment", HIDDEN,
            "Save the current filter as a segment (asks the name)"),
    )
    # fmt: on

    @property
    def db(self) -> Database:
        return session(self).db

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="contacts-body"):
            with Vertical(id="contacts-main"):
                with Horizontal(id="search-row"):
                    yield Static("/", id="search-icon", markup=False)
                    yield Input(
                        placeholder="Search names and emails  (/ to focus, escape to leave)",
                        id="search",
                    )
                yield ContactsTable(self.db, id="contacts-table")
                with Vertical(id="empty-state"):
                    yield Static(self._empty_text(), id="empty-text")
        with Horizontal(id="status-bar"):
            yield Static("Counting contacts…", id="count-line", markup=False)
            yield Static("? all keys", id="key-hint", markup=False)
        yield Footer(compact=True)

    @staticmethod
    def _empty_text() -> str:
        return (
            "[b]No contacts yet.[/b]\n\n"
            "[b]Import a CSV file[/b]: press [b]i[/b], or run "
            "[b]session-tui import FILE[/b] in a shell.\n"
            "Files exported by Ghost, Mailchimp, Kit or session-tui import without editing.\n\n"
            f"[b]Just looking around?[/b] Press [b]D[/b] to fill this empty database with "
            f"{DEMO_CONTACTS:,} generated demo contacts.\n\n"
            "Press [b]?[/b] for every key."
        )

    # -- public ------------------------------------------------------------------------
    @property
    def table(self) -> ContactsTable:
        return self.query_one("#contacts-table", ContactsTable)

    @property
    def filter_panel(self) -> FilterPanel | None:
        """The filter builder, once `f` opened it (its module loads then: before,
        there is none)."""
        panel = sys.modules.get("session_tui.ui.widgets.filter_panel.panel")
        return None if panel is None else panel.panel_of(self)

    def set_filter(self, contact_filter: Group | None) -> None:
        table = self.table
        table.contact_query = replace(table.contact_query, filter=contact_filter)

    def refresh_contacts(self) -> None:
        self.table.reload()

    def action_refresh_contacts(self) -> None:
        """ctrl+r / f5: re-read count and rows (cursor, scroll and selection stay)."""
        self.table.reload()

    def on_screen_resume(self) -> None:
        """Back on Contacts (from another screen or a dialog): show what changed meanwhile
        -- here, from the command line or another user. The old rows stay until then."""
        if self.table.count is not None and not self.table.is_loading:
            self.table.reload()

    # -- the flows ------------------------------------------------------------------------
    def _run_flow(self, flow: Flow, group: str, *, exclusive: bool = False) -> None:
        """`flow` (of contact_actions.py, csv_flows.py) in a worker of this screen, where
        it awaits its dialogs."""
        self.run_worker(flow(self, self.table), group=group, exclusive=exclusive)

    # -- delete, undo, edit: contact_actions.py ------------------------------------------
    # Delete and undo never cancel each other (the undo stack's `busy` turns the
    # second one away with a notice); a second edit replaces the first.
    def action_delete_contacts(self) -> None:
        self._run_flow(contact_actions.delete_selected, "contacts-delete")

    def action_undo_last(self) -> None:
        self._run_flow(contact_actions.undo_last, "contacts-delete")

    # -- the actions menu: bulk_flows.py -------------------------------------------------
    # The menu opens at once (keys typed right after `A` reach it); the chosen action
    # runs in a worker. Its membership actions and delete share the undo stack's
    # `busy` with delete and undo.
    def action_actions_menu(self) -> None:
        bulk_flows.open_menu(self, self.table, self._run_action)

    @work(group="contacts-actions")
    async def _run_action(self, request: bulk_flows.MenuRequest, choice: BulkChoice) -> None:
        await bulk_flows.run_choice(self, self.table, request, choice)

    def action_edit_contact(self) -> None:
        self._run_flow(contact_actions.edit_current, "contacts-edit", exclusive=True)

    # -- filters and segments ------------------------------------------------------------
    async def action_toggle_filter(self) -> None:
        """Show the filter builder above the contacts table (focus in its text box), or
        hide it (focus back to the table). The filter stays applied while hidden."""
        panel = self.filter_panel
        if panel is None:
            from session_tui.ui.widgets.filter_panel.panel import FilterPanel

            panel = FilterPanel()
            await self.query_one("#contacts-main").mount(panel, before="#contacts-table")
            self.set_focus(panel.text_input)
            return
        if panel.display:
            panel.display = False
            self.set_focus(self.table)
        else:
            panel.display = True
            panel.refresh_lists()
            self.set_focus(panel.text_input)
        self.update_count_line()

    def action_save_segment(self) -> None:
        panel = self.filter_panel
        if panel is None:
            self.notify(
                "There is no filter to save: press f to build one.",
                title="Segment",
                severity="warning",
            )
            return
        self._save_segment(panel)

    @on(panel_messages.Applied)
    def _filter_applied(self, event: panel_messages.Applied) -> None:
        self.set_filter(event.filter)

    @on(panel_messages.Left)
    def _filter_left(self, event: panel_messages.Left) -> None:
        self.set_focus(self.table)

    @on(panel_messages.SaveRequested)
    def _segment_save_requested(self, event: panel_messages.SaveRequested) -> None:
        if (panel := self.filter_panel) is not None:
            self._save_segment(panel)

    @on(panel_messages.RenameRequested)
    @work(group="filter-segments")
    async def _segment_rename_requested(self, event: panel_messages.RenameRequested) -> None:
        if (panel := self.filter_panel) is not None:
            await segment_flows.rename_segment(self, panel)

    @on(panel_messages.DeleteRequested)
    @work(group="filter-segments")
    async def _segment_delete_requested(self, event: panel_messages.DeleteRequested) -> None:
        if (panel := self.filter_panel) is not None:
            await segment_flows.delete_segment(self, panel)

    @work(group="filter-segments")
    async def _save_segment(self, panel: FilterPanel) -> None:
        await segment_flows.save_segment(self, panel)

    # -- CSV import / export: csv_flows.py -----------------------------------------------
    def action_import_csv(self) -> None:
        self._run_flow(csv_flows.import_contacts, "contacts-csv")

    def action_export_csv(self) -> None:
        self._run_flow(csv_flows.export_contacts, "contacts-csv")

    # -- memberships: membership_flows.py ------------------------------------------------
    def action_open_contact(self) -> None:
        row = self.table.current_row
        if row is not None:
            membership_flows.open_contact(self, row.id, self._after_membership_change)

    def action_add_membership(self) -> None:
        row = self.table.current_row
        email = row.email if row is not None else ""
        membership_flows.add_membership(self, email, self._after_membership_change)

    def _after_membership_change(self, changed: bool) -> None:
        if changed:
            self.table.reload()
        self.table.focus()

    # -- search (TableSearch) -----------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_search":
            return self.focused is self.search_input
        if action == "focus_search":
            # "/" types itself into any text box (the search box, the filter panel…)
            return self._counts.total != 0 and not _is_text_box(self.focused)
        if action == "fill_demo":
            return self._counts.total == 0 and not self._demo_running
        if action in ("delete_contacts", "edit_contact", "open_contact", "actions_menu"):
            if self._counts.total == 0:
                return False  # nothing to act on in the empty state (u still works)
            # They act on the table's contacts: not while focus is in the filter panel
            # (a `d` pressed on one of its lists must not open the delete dialog).
            return True if self.focused in (None, self.table) else None
        return True

    # -- count line ---------------------------------------------------------------------
    @on(ContactsTable.CountChanged)
    def _count_changed(self, event: ContactsTable.CountChanged) -> None:
        was_empty = self._counts.total == 0
        self._counts.counted(event)
        self.update_count_line()
        empty = event.total == 0
        self.query_one("#empty-state").display = empty
        self.query_one("#contacts-table").display = not empty
        self.query_one("#search-row").display = not empty
        # check_action depends on the count only through "is the database empty"
        # (`_total == 0`): refresh the keys (the footer is recomposed, ~5 ms) only when
        # that flips, not after every search.
        if empty != was_empty:
            self.refresh_bindings()

    @on(ContactsTable.SelectionChanged)
    def _selection_changed(self, event: ContactsTable.SelectionChanged) -> None:
        self._counts.selection_changed(event)
        self.update_count_line()

    def update_count_line(self) -> None:
        """Also called when the filter panel is shown or hidden: while hidden, the
        count line names the segment or filter that is applied."""
        query = self.table.contact_query
        by = "filter" if query.filter is not None else "search"
        panel = self.filter_panel
        applied = ""
        if panel is not None and not panel.display and query.filter is not None:
            applied = panel.description()
        self.query_one("#count-line", Static).update(
            self._counts.line("contact", restricted_by=by, applied=applied)
        )

    # -- empty state: demo data ---------------------------------------------------------
    async def action_fill_demo(self) -> None:
        if self._counts.total != 0 or self._demo_running:
            return
        self._demo_running = True
        self.refresh_bindings()
        from textual.widgets import ProgressBar  # loaded and built at the first `D`

        bar = next(iter(self.query("#demo-progress").results(ProgressBar)), None)
        if bar is None:
            bar = ProgressBar(id="demo-progress", show_eta=False)
            await self.query_one("#empty-state").mount(bar)
        bar.display = True
        bar.update(total=DEMO_CONTACTS, progress=0)
        self._demo_worker(bar)

    @work(exclusive=True, group="contacts-demo")
    async def _demo_worker(self, bar: ProgressBar) -> None:
        worker = get_current_worker()
        db, app = self.db, self.app

        def progress(done: int, total: int) -> None:  # in the demo's thread
            if not worker.is_cancelled:
                app.call_from_thread(bar.update, total=total, progress=done)

        from session_tui.data.demo import generate_demo

        try:
            await asyncio.to_thread(generate_demo, db, DEMO_CONTACTS, seed=0, progress=progress)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self._demo_done(describe_error(exc))
            return
        self._demo_done(None)

    def _demo_done(self, error: str | None) -> None:
        self._demo_running = False
        self.query_one("#demo-progress").display = False
        if error:
            self.notify(escape_markup(error), title="Demo data failed", severity="error")
        else:
            self.notify(f"Added {DEMO_CONTACTS:,} demo contacts.", title="Demo data")
        self.table.reload()
        self.table.focus()
        self.refresh_bindings()
