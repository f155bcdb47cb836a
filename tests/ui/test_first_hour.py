"""Defects a new user hit in the first hour (issue 12), each driven with Pilot:
segment reload, the count line naming the applied segment/filter, the payment
picker, the table right after undo, tab order in the filter panel, the footer's
palette key, toasts over the "? all keys" hint."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.widgets import Button, OptionList, Select, Static
from textual.widgets._toast import Toast

from session_tui.data.db import Database
from session_tui.data.deletion import restore_backup
from session_tui.data.filters import parse
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.segments import SegmentsRepository
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.membership_actions import PaymentModal
from session_tui.ui.screens import contact_actions
from session_tui.ui.screens.contacts import ContactsScreen
from session_tui.ui.screens.memberships import MembershipsScreen
from session_tui.ui.widgets.filter_panel import FilterPanel, panel_of
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    count_line_text,
    line_texts,
    make_test_app,
    numbered_people,
    seed,
    settle,
    wait_until,
)
from tests.ui.memberships_helpers import (
    FrozenClock,
    make_frozen_app,
    seed_memberships,
    wait_for_screen,
)

PEOPLE = [
    Person("ann@gmail.com", "Ann", "Smith", products={"GP": True}),
    Person("bob@x.org", "Bob", "Jones", products={"GP": False}),
    Person("cat@x.org", "Cat", "Lee"),
    Person("dan@gmail.com", "Dan", "Brown", products={"Course": True}),
    Person("eve@x.org", "Eve", "Adams", products={"GP": True}),
    Person("fay@x.org", "Fay", "Khan"),
    Person("gus@x.org", "Gus", "Diaz"),
]


async def open_panel(pilot: Any, screen: ContactsScreen) -> FilterPanel:
    await settle(pilot, screen.table)
    await pilot.press("f")
    await wait_until(pilot, lambda: panel_of(screen) is not None)
    panel = panel_of(screen)
    assert panel is not None
    await wait_until(pilot, lambda: bool(panel.products) and bool(panel.segments))
    return panel


async def choose_segment(pilot: Any, panel: FilterPanel) -> None:
    panel.query_one("#segment-select", Select).focus()
    await pilot.press("enter", "end", "enter")  # open the list, the last one, choose it


async def shown(pilot: Any, screen: ContactsScreen, count: int) -> None:
    table = screen.table
    await wait_until(pilot, lambda: table.count == count and not table.is_loading)
    await settle(pilot, table)


async def test_choosing_the_shown_segment_again_reloads_it(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    SegmentsRepository(sqlite_db).save("GP or free", parse("product:GP"))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = contacts_screen(app)
        panel = await open_panel(pilot, screen)
        await choose_segment(pilot, panel)
        await wait_until(pilot, lambda: panel.segment == "GP or free")
        await shown(pilot, screen, 3)

        # the user edits the text: the segment is no longer what is applied
        panel.text_input.value = "status:active"
        panel.text_input.focus()
        await pilot.press("enter")
        await shown(pilot, screen, 3)  # Ann, Dan, Eve
        await wait_until(pilot, lambda: panel.segment is None)
        select = panel.query_one("#segment-select", Select)
        assert select.value is Select.NULL  # the dropdown no longer names it
        assert panel.query_one("#segment-delete", Button).disabled

        # ... and clears it
        panel.text_input.value = ""
        await pilot.press("enter")
        await shown(pilot, screen, 7)

        # picking the same segment again loads it again
        await choose_segment(pilot, panel)
        await wait_until(pilot, lambda: panel.segment == "GP or free")
        await shown(pilot, screen, 3)
        assert panel.text_input.value == "product:GP"
        rows = [screen.table.row_at(i) for i in range(3)]
        assert {r.first_name for r in rows if r is not None} == {"Ann", "Bob", "Eve"}


async def test_hidden_panel_count_line_names_the_segment_or_filter(
    sqlite_db: Database,
) -> None:
    seed(sqlite_db, PEOPLE)
    SegmentsRepository(sqlite_db).save("GP or free", parse("product:GP"))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = contacts_screen(app)
        panel = await open_panel(pilot, screen)
        await choose_segment(pilot, panel)
        await shown(pilot, screen, 3)
        assert count_line_text(screen) == "3 of 7 contacts"  # the panel shows it
        screen.set_focus(screen.table)
        await pilot.press("f")  # hide the panel
        await wait_until(pilot, lambda: not panel.display)
        assert count_line_text(screen) == 'Segment "GP or free" · 3 of 7 contacts'

        await pilot.press("f")
        panel.text_input.value = "status:active and " + "search:x " * 10
        await pilot.press("enter")
        await wait_until(pilot, lambda: panel.segment is None)
        await settle(pilot, screen.table)
        screen.set_focus(screen.table)
        await pilot.press("f")
        await wait_until(pilot, lambda: not panel.display)
        line = count_line_text(screen)
        assert line.startswith("Filter status:active and search:x")
        assert "…" in line and line.endswith(" of 7 contacts")
        assert len(line.split(" · ")[0]) <= len("Filter ") + 40


async def test_payment_picker_opens_on_the_current_type(sqlite_db: Database) -> None:
    seeded = seed_memberships(sqlite_db)
    repo = MembershipsRepository(sqlite_db, FrozenClock())
    ben = repo.find("ben.okafor@example.org", "1:1 Coaching")
    assert ben is not None and ben.payment_type == "comped"
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("m")
        screen = await wait_for_screen(pilot, MembershipsScreen)
        await settle(pilot, screen.table)
        index = next(
            i
            for i in range(screen.table.count or 0)
            if (r := screen.table.row_at(i)) is not None and r.email == "ben.okafor@example.org"
        )
        screen.table.move_cursor(index)
        await settle(pilot, screen.table)
        await pilot.press("t")
        modal = await wait_for_screen(pilot, PaymentModal)
        options = modal.query_one(OptionList)
        highlighted = options.get_option_at_index(options.highlighted or 0)
        assert options.highlighted is not None and "comped" in str(highlighted.prompt)
        # up and down stop at the ends: no wrap-around onto another type
        await pilot.press("down", "down", "down")
        assert "comped" in str(options.get_option_at_index(options.highlighted).prompt)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PaymentModal))
    after = repo.find("ben.okafor@example.org", "1:1 Coaching")
    assert after is not None and after.payment_type == "comped"
    assert [str(e.kind) for e in repo.history(after.contact_id)] == ["granted"]
    assert seeded.products


async def test_tab_order_in_the_filter_panel(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    SegmentsRepository(sqlite_db).save("GP or free", parse("product:GP"))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = contacts_screen(app)
        panel = await open_panel(pilot, screen)
        await choose_segment(pilot, panel)
        await wait_until(pilot, lambda: panel.segment == "GP or free")
        panel.text_input.focus()
        await pilot.pause()
        await pilot.press("shift+tab")
        assert app.focused is panel.query_one("#segment-select", Select)
        await pilot.press("tab")
        assert app.focused is panel.text_input
        await pilot.press("tab")
        assert app.focused is panel.query_one("#root-mode", Select)
        # enter on whatever shift+tab reaches from the text box never opens a deletion
        panel.text_input.focus()
        await pilot.pause()
        await pilot.press("shift+tab", "escape", "enter")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmModal)
        # the segment buttons are reachable only by mouse or after the rows
        order = [w for w in screen.focus_chain if panel in w.ancestors]
        ids = [w.id for w in order]
        assert ids.index("segment-select") < ids.index("filter-text") < ids.index("root-mode")
        assert ids.index("segment-delete") > ids.index("clear-filter")


def screen_lines(app: Any) -> list[str]:
    """The screen as text, one string per line (what a terminal would show)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text().splitlines()


async def test_footer_palette_key_has_nothing_after_it(sqlite_db: Database) -> None:
    """At 80 columns the footer's keys overflow under the palette key, which Textual's
    compact footer kept 1 column from the edge: "palettel". Now it ends the line."""
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.pause()
        footer = screen_lines(app)[23]
        assert len(footer) == 80
        assert footer.endswith("^p palette "), repr(footer)


async def test_toasts_leave_the_key_hint_visible(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)
        app.notify("A long message that takes a few lines " * 3, title="Hello", timeout=30)
        await pilot.pause(0.3)
        toast = app.screen.query_one(Toast)
        hint = screen.query_one("#key-hint", Static)
        assert toast.region.area > 0
        assert not toast.region.overlaps(hint.region), (toast.region, hint.region)
        assert str(hint.render()) == "? all keys"


async def test_table_right_after_undo_is_loading_not_empty(sqlite_db: Database) -> None:
    """After undoing a delete that had emptied the filtered table, the table used to say
    "No contacts match the filter" (with the old count) until the slow count came back.
    reload() on an empty table now says "Loading…" at once and reads the rows first."""
    seed(sqlite_db, numbered_people(300))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        screen.set_filter(parse("search:First00"))
        await shown(pilot, screen, 100)
        await pilot.press("ctrl+a")
        await settle(pilot, table)
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmModal)
        await pilot.press("y")
        await wait_until(pilot, lambda: table.count == 0 and not table.is_loading, timeout=30)
        assert "No contacts match the filter" in line_texts(table)[2]
        await wait_until(pilot, lambda: not contact_actions._state(app).busy, timeout=30)

        # the database changes behind the table (as the undo does); then reload():
        # at once, before any worker ran, the stale "no match" is gone
        restore_backup(sqlite_db, contact_actions._state(app).undo[-1].result.backup_path)
        table.reload()
        lines = line_texts(table)
        assert "Loading…" in lines[1]
        assert not any("No contacts match" in line for line in lines)
        await shown(pilot, screen, 100)
        assert table.row_at(0) is not None and table.row_at(0).first_name == "First0000"  # type: ignore[union-attr]
        assert count_line_text(screen).startswith("100 of 300 contacts")


async def test_undo_shows_the_restored_rows(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(300))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        screen.set_filter(parse("search:First00"))
        await shown(pilot, screen, 100)
        await pilot.press("ctrl+a")
        await settle(pilot, table)
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmModal)
        await pilot.press("y")
        await wait_until(pilot, lambda: table.count == 0 and not table.is_loading, timeout=30)
        await wait_until(pilot, lambda: not contact_actions._state(app).busy, timeout=30)
        await pilot.press("u")
        await wait_until(pilot, lambda: not contact_actions._state(app).busy, timeout=30)
        await shown(pilot, screen, 100)
        assert count_line_text(screen) == "100 of 300 contacts · 100 selected"
        assert "First0000" in line_texts(table)[1]
