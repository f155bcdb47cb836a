"""The filter builder panel (f) and segments (s), driven with keys through Pilot.

Assertions are on the database (segments), the panel's filter tree, the table's
count and the widgets -- what a user relies on.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from session_tui.data.db import Database
from session_tui.data.filters import parse, to_text
from session_tui.data.repositories.segments import SegmentsRepository
from session_tui.ui.app import SessionApp
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.segment_name import SegmentNameModal
from session_tui.ui.widgets.filter_panel import ConditionRow, FilterPanel, GroupBox, panel_of
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    make_test_app,
    seed,
    settle,
    wait_until,
)

PEOPLE = [
    Person("ann@gmail.com", "Ann", "Smith", products={"1:1 Coaching": True}),
    Person("bob@x.org", "Bob", "Jones", products={"Course": True, "1:1 Coaching": False}),
    Person("cat@x.org", "Cat", "Lee"),
    Person("dan@gmail.com", "Dan", "Brown", products={"1:1 Coaching": False}),
    Person("eve@x.org", "[bold]Eve", "Adams", products={"Course": False}),
]


async def open_panel(pilot: Pilot[Any], app: SessionApp) -> FilterPanel:
    screen = contacts_screen(app)
    await settle(pilot, screen.table)
    await pilot.press("f")
    await wait_until(pilot, lambda: panel_of(screen) is not None)
    panel = panel_of(screen)
    assert panel is not None
    await wait_until(pilot, lambda: bool(panel.products))  # lists loaded
    return panel


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])


async def shown_count(pilot: Pilot[Any], app: SessionApp, expected: int) -> None:
    table = contacts_screen(app).table
    await wait_until(pilot, lambda: table.count == expected and not table.is_loading)
    await settle(pilot, table)


def names(app: SessionApp) -> set[str]:
    table = contacts_screen(app).table
    rows = [table.row_at(i) for i in range(table.count or 0)]
    return {r.first_name for r in rows if r is not None}


async def test_build_a_filter_with_keys(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_panel(pilot, app)
        assert app.focused is panel.text_input
        # a new row: field product, operator is, value: choose the first product
        await pilot.press("ctrl+n")
        row = panel.query_one(ConditionRow)
        assert app.focused is row.query_one(".field")
        await pilot.press("tab", "tab", "enter", "down", "enter")  # value: "1:1 Coaching"
        await shown_count(pilot, app, 3)
        assert names(app) == {"Ann", "Bob", "Dan"}
        assert panel.text_input.value == 'product:"1:1 Coaching"'
        # a second row; change its field to status (the value defaults to active)
        await pilot.press("ctrl+n", "enter", "down", "enter")
        await shown_count(pilot, app, 1)
        assert names(app) == {"Ann"}  # the same membership: an ACTIVE Coaching one
        assert panel.text_input.value == 'product:"1:1 Coaching" and status:active'
        # AND -> OR from the keyboard
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: " or " in panel.text_input.value)
        await shown_count(pilot, app, 3)
        assert panel.text_input.value == 'product:"1:1 Coaching" or status:active'
        # a group: (payment is paid) -- its field is product; pick status, then expired
        await pilot.press("ctrl+o", "ctrl+g")
        group = panel.query_one(GroupBox)
        assert app.focused is group.query_one(ConditionRow).query_one(".field")
        await pilot.press("enter", "down", "enter", "tab", "tab", "enter", "down", "enter")
        await wait_until(pilot, lambda: "(status:expired)" in panel.text_input.value)
        # remove the row holding the focus (the group's only row: the group goes)
        await pilot.press("delete")
        await wait_until(pilot, lambda: not panel.query(GroupBox))
        await shown_count(pilot, app, 1)
        # escape leaves the panel for the table; f hides it; the filter stays applied
        await pilot.press("escape")
        assert app.focused is contacts_screen(app).table
        await pilot.press("f")
        assert not panel.display
        assert contacts_screen(app).table.count == 1


async def test_text_and_rows_stay_in_sync(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_panel(pilot, app)
        panel.text_input.insert_text_at_cursor('product:"1:1 coaching" (status:active')
        await type_text(pilot, " or status:expired)")
        await pilot.press("enter")
        await shown_count(pilot, app, 3)
        rows = list(panel.query(ConditionRow).results(ConditionRow))
        assert [(r.field.value, r.value) for r in rows] == [
            ("product", "1:1 Coaching"),  # the product as the database spells it
            ("status", "active"),
            ("status", "expired"),
        ]
        assert panel.query_one(GroupBox).mode.value == "or"
        # a syntax error: its column is shown; the last valid filter stays applied
        # (the text now spells the product as the database does)
        assert panel.text_input.value == (
            'product:"1:1 Coaching" and (status:active or status:expired)'
        )
        await pilot.press("ctrl+e", "space", "a", "n", "d")
        await wait_until(pilot, lambda: bool(panel.text_error))
        error = str(panel.query_one("#filter-error", Static).render())
        assert "column 65: expected a condition after 'and'" in error
        assert contacts_screen(app).table.count == 3
        assert len(list(panel.query(ConditionRow))) == 3
        # fixing it applies the new filter
        await type_text(pilot, " search:gmail")
        await shown_count(pilot, app, 2)
        assert not panel.text_error
        assert names(app) == {"Ann", "Dan"}
        # an invalid row value is flagged and left out
        await pilot.press("ctrl+n")
        new_row = list(panel.query(ConditionRow).results(ConditionRow))[-1]
        await pilot.press("enter", *["down"] * 4, "enter")  # field: joined
        assert new_row.field.value == "joined"
        await pilot.press("tab", "tab")
        await type_text(pilot, "2026-13-01")
        await wait_until(pilot, lambda: new_row.has_class("-invalid"))
        assert "not a date" in str(panel.query_one("#filter-error", Static).render())
        assert contacts_screen(app).table.count == 2


async def test_save_load_rename_delete_segment(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    repo = SegmentsRepository(sqlite_db)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_panel(pilot, app)
        text = 'product:"1:1 Coaching" and (status:active or payment:comped)'
        panel.text_input.insert_text_at_cursor(text)
        await pilot.press("escape")  # back to the table
        await shown_count(pilot, app, 1)
        # s: a modal asks the name
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SegmentNameModal))
        await type_text(pilot, "Coaching VIPs")
        await pilot.press("enter")
        await wait_until(pilot, lambda: repo.get("coaching vips") is not None)
        saved = repo.get("Coaching VIPs")
        assert saved is not None and saved.text == text
        await wait_until(pilot, lambda: panel.segment == "Coaching VIPs")

        # an existing name asks before replacing; "n" keeps the old filter
        panel.text_input.value = "status:none"
        await shown_count(pilot, app, 1)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SegmentNameModal))
        assert app.screen.query_one("#segment-name", Input).value == "Coaching VIPs"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await pilot.pause(0.2)
        assert repo.get("Coaching VIPs").text == text  # type: ignore[union-attr]
        # ... and "y" replaces it
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SegmentNameModal))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: repo.get("coaching vips").text == "status:none")  # type: ignore[union-attr]
        # escape in the name modal writes nothing
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SegmentNameModal))
        await type_text(pilot, " 2")
        await pilot.press("escape")
        assert repo.names() == ["Coaching VIPs"]

        # loading a segment restores the panel exactly
        repo.save("Lapsed", parse("status:expired or (product:Course and payment:paid)"))
        panel.refresh_lists()
        await wait_until(pilot, lambda: "Lapsed" in panel.segments)
        panel.query_one("#segment-select", Select).focus()
        await pilot.press("enter", "end", "enter")  # open the list, the last one (Lapsed)
        await wait_until(pilot, lambda: panel.segment == "Lapsed")
        await shown_count(pilot, app, 3)
        assert names(app) == {"Bob", "Dan", "[bold]Eve"}
        assert panel.filter_tree == repo.get("Lapsed").filter  # type: ignore[union-attr]
        assert panel.text_input.value == "status:expired or (product:Course and payment:paid)"
        assert panel.query_one("#root-mode", Select).value.value == "or"  # type: ignore[union-attr]

        # rename
        await pilot.click("#segment-rename")
        await wait_until(pilot, lambda: isinstance(app.screen, SegmentNameModal))
        name_box = app.screen.query_one("#segment-name", Input)
        name_box.value = "Lapsed members"
        await pilot.press("enter")
        await wait_until(pilot, lambda: repo.get("Lapsed members") is not None)
        assert repo.get("Lapsed") is None
        await wait_until(pilot, lambda: panel.segment == "Lapsed members")

        # delete (confirmation first; the filter stays applied)
        await pilot.click("#segment-delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: repo.get("Lapsed members") is None)
        assert repo.names() == ["Coaching VIPs"]
        await wait_until(pilot, lambda: panel.segment is None)
        assert contacts_screen(app).table.count == 3


async def test_empty_filter_is_not_saved(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("s")  # no panel yet: nothing to save, no modal
        await pilot.pause(0.1)
        assert not isinstance(app.screen, SegmentNameModal)
        await open_panel(pilot, app)
        await pilot.press("escape", "s")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, SegmentNameModal)
        assert SegmentsRepository(sqlite_db).names() == []


def test_markup_in_names_is_literal() -> None:
    """Product and segment names are options built with literal(): no markup."""
    row = ConditionRow(products=["[bold]Loud", "[@click=app.quit]x"])
    prompts = [str(p) for p, _ in row._product_options()]
    assert prompts == ["[bold]Loud", "[@click=app.quit]x"]
    assert to_text(parse('product:"[bold]Loud"')) == "product:[bold]Loud"


def test_snapshot_filter_panel(snap_compare: Any, sqlite_db: Database) -> None:
    """The panel with rows, a group, a loaded segment and the table it filters."""
    seed(sqlite_db, PEOPLE)
    SegmentsRepository(sqlite_db).save(
        "Coaching VIPs", parse('product:"1:1 Coaching" and (status:active or payment:paid)')
    )
    app = make_test_app(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        panel = await open_panel(pilot, app)
        panel.query_one("#segment-select", Select).focus()
        await pilot.press("enter", "end", "enter")
        await wait_until(pilot, lambda: panel.segment == "Coaching VIPs")
        await shown_count(pilot, app, 3)
        await pilot.press("escape")
        await settle(pilot, contacts_screen(app).table)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
