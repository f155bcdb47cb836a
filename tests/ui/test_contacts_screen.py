"""The Contacts screen driven with Pilot: browsing, sorting, search, selection, safety."""

from __future__ import annotations

from datetime import datetime

import pytest
from textual import events
from textual.widgets import Input

from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository, SortKey
from session_tui.data.tables import contact_t
from session_tui.ui import app as app_module
from session_tui.ui.screens.contacts import count_line
from session_tui.ui.screens.help import HelpScreen
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    count_line_text,
    line_texts,
    make_test_app,
    numbered_people,
    seed,
    settle,
    visible_rows_loaded,
    wait_until,
)

SIZE = (120, 40)
JOINED_1 = datetime(2024, 1, 1, 12)
JOINED_2 = datetime(2024, 2, 1, 12)
JOINED_3 = datetime(2024, 3, 1, 12)


# -- browsing ------------------------------------------------------------------------------
async def test_browse_page_down_end_home(db: Database) -> None:
    seed(db, numbered_people(250))
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        assert table.has_focus
        assert count_line_text(screen) == "250 contacts"
        lines = line_texts(table)
        assert "Name ▲" in lines[0] and "Email" in lines[0] and "Status" in lines[0]
        assert "First0000 Last0000" in lines[1] and "p0000@example.com" in lines[1]
        # the virtual height is the real total (plus the header line)
        assert table.virtual_size.height == 251

        await pilot.press("j", "j", "down")
        assert table.cursor_index == 3
        await pilot.press("k")
        assert table.current_row is not None and table.current_row.email == "p0002@example.com"

        await pilot.press("pagedown")
        await settle(pilot, table)
        assert table.cursor_index == 2 + table.body_height

        await pilot.press("end")
        await settle(pilot, table)
        assert table.cursor_index == 249
        assert table.current_row is not None and table.current_row.email == "p0249@example.com"
        assert any("First0249 Last0249" in line for line in line_texts(table))

        await pilot.press("home")
        await settle(pilot, table)
        assert table.cursor_index == 0 and round(table.scroll_y) == 0

        await pilot.press("G")
        await settle(pilot, table)
        assert table.cursor_index == 249
        await pilot.press("g")
        await settle(pilot, table)
        assert table.cursor_index == 0


async def test_status_and_products_columns(sqlite_db: Database) -> None:
    seed(
        sqlite_db,
        [
            Person("a@x.org", "Ada", "Active", products={"Coaching": True, "Course": False}),
            Person("b@x.org", "Bea", "Expired", products={"Course": False}),
            Person("c@x.org", "Cy", "None"),
        ],
    )
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        lines = line_texts(table)
        assert "active" in lines[1] and "Coaching, Course" in lines[1]
        assert "expired" in lines[2]
        assert "none" in lines[3]
        assert "2025-03-01" in lines[1]


async def test_mouse_click_moves_cursor_and_header_click_sorts(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(30))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.click(table, offset=(10, 5))  # line 5 = 5th row
        assert table.cursor_index == 4
        # "Email" header: the email column starts after the mark (2) and name columns
        email_x = table.columns()[0].width + table.columns()[1].width + 3
        await pilot.click(table, offset=(email_x, 0))
        await settle(pilot, table)
        assert table.contact_query.sort is SortKey.EMAIL
        await pilot.click(table, offset=(email_x, 0))
        await settle(pilot, table)
        assert table.contact_query.descending
        assert "Email ▼" in line_texts(table)[0]


# -- sorting -------------------------------------------------------------------------------
async def test_sort_keys_cycle_and_reverse(sqlite_db: Database) -> None:
    seed(
        sqlite_db,
        [
            Person("zed@b.org", "Ann", "Zulu", joined=JOINED_2),
            Person("amy@b.org", "Bob", "Young", joined=JOINED_1),
            Person("mid@b.org", "Cat", "Xeno", joined=JOINED_3, products={"C": True}),
        ],
    )
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)

        def first_emails() -> list[str]:
            return [table.row_at(i).email for i in range(3)]  # type: ignore[union-attr]

        assert first_emails() == ["mid@b.org", "amy@b.org", "zed@b.org"]  # by last name
        await pilot.press("o")
        await settle(pilot, table)
        assert table.contact_query.sort is SortKey.EMAIL
        assert "Email ▲" in line_texts(table)[0]
        assert first_emails() == ["amy@b.org", "mid@b.org", "zed@b.org"]
        await pilot.press("O")
        await settle(pilot, table)
        assert "Email ▼" in line_texts(table)[0]
        assert first_emails() == ["zed@b.org", "mid@b.org", "amy@b.org"]
        await pilot.press("o")  # status: active first
        await settle(pilot, table)
        assert table.contact_query.sort is SortKey.STATUS
        assert first_emails()[0] == "mid@b.org"
        await pilot.press("o")  # joined
        await settle(pilot, table)
        assert first_emails() == ["amy@b.org", "zed@b.org", "mid@b.org"]
        await pilot.press("o")  # back to name
        await settle(pilot, table)
        assert table.contact_query.sort is SortKey.NAME


# -- search --------------------------------------------------------------------------------
async def test_search_narrows_count_and_rows_and_escape_leaves(db: Database) -> None:
    people = numbered_people(120)
    people += [
        Person("zoe@quux.org", "Zoë", "Quartz"),
        Person("qa@example.com", "Quentin", "Quartzite"),
    ]
    seed(db, people)
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        assert count_line_text(screen) == "122 contacts"
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("q", "u", "a", "r", "t", "z")
        # typing "q" in the box types it, it does not quit
        await wait_until(pilot, lambda: table.contact_query.search == "quartz")
        await settle(pilot, table)
        assert app.is_running
        assert count_line_text(screen) == "2 of 122 contacts"
        lines = line_texts(table)
        assert "Zoë Quartz" in lines[1] and "Quentin Quartzite" in lines[2]
        assert lines[3].strip() == ""
        await pilot.press("i", "t")
        await wait_until(pilot, lambda: table.count == 1)
        await settle(pilot, table)
        assert count_line_text(screen) == "1 of 122 contacts"
        await pilot.press("escape")
        assert table.has_focus
        assert screen.search_input.value == "quartzit"
        await pilot.press("slash", "ctrl+u")  # clear the box (readline style)
        await pilot.press("backspace")
        await wait_until(pilot, lambda: table.count == 122)
        await pilot.press("escape")
        assert table.has_focus


async def test_typing_on_narrows_from_the_rows_on_screen_then_reads_for_real(
    db: Database,
) -> None:
    """Typing on ("ann" -> "anne") first shows the matching rows already on screen, then
    the real count and rows -- including a contact added meanwhile by someone else."""
    people = [Person(f"berg{i:03d}@x.org", "Anna", f"Berg{i:03d}") for i in range(60)]
    people += [Person(f"carl{i:03d}@x.org", "Anne", f"Carl{i:03d}") for i in range(60)]
    seed(db, people)
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        await pilot.press("slash", "a", "n", "n")
        await wait_until(pilot, lambda: table.contact_query.search == "ann")
        await settle(pilot, table)
        assert count_line_text(screen) == "120 contacts"  # all of them match
        # Someone else adds a contact that sorts first; the rows on screen do not hold it.
        seed(db, [Person("aaron@x.org", "Anne", "Aaron")])
        await pilot.press("e")
        shown_rows: list[str] = []  # every row shown for "anne", at every check

        def check() -> bool:
            if table.rows_ready and table.contact_query.search == "anne":
                top = round(table.scroll_y)
                for i in range(top, top + table.body_height):
                    row = table.row_at(i)
                    if row is not None:
                        shown_rows.append(row.full_name)
            return visible_rows_loaded(table) and table.contact_query.search == "anne"

        await wait_until(pilot, check)
        await settle(pilot, table)
        assert shown_rows and all(name.startswith("Anne ") for name in shown_rows)
        # (the total in all is re-read on ctrl+r / coming back, not per keystroke)
        assert count_line_text(screen).startswith("61 of ")
        lines = line_texts(table)
        assert "Anne Aaron" in lines[1]
        assert "Anne Carl000" in lines[2] and "Anne Carl001" in lines[3]
        assert not any("Anna" in line for line in lines)
        assert [r.id for r in (table.row_at(i) for i in range(61)) if r is not None] == [
            r.id for r in ContactsRepository(db).page(ContactQuery(search="anne"), 0, 61)
        ]


async def test_keys_typed_right_after_slash_land_in_the_search_box(
    sqlite_db: Database,
) -> None:
    """A burst of keys (fast typist, paste-like tmux send-keys) is not split up."""
    seed(sqlite_db, numbered_people(5) + [Person("mia@x.org", "Mia", "Mapple")])
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        # all posted before the app handles the first one ("m" would switch screens)
        for key, char in [("slash", "/"), ("m", "m"), ("a", "a"), ("p", "p")]:
            app.post_message(events.Key(key, char))
        await wait_until(pilot, lambda: table.count == 1)
        assert screen.search_input.value == "map"
        assert app.current_mode == "contacts"
        for key, char in [("escape", None), ("j", "j")]:
            app.post_message(events.Key(key, char))
        await pilot.pause(0.1)
        assert table.has_focus and screen.search_input.value == "map"


async def test_search_without_results_says_so(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(10))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        await pilot.press("slash", *"nobody-here", "enter")
        await wait_until(pilot, lambda: table.count == 0)
        assert table.has_focus
        assert any("No contacts match “nobody-here”" in line for line in line_texts(table))
        assert count_line_text(screen) == "0 of 10 contacts"


# -- selection -----------------------------------------------------------------------------
async def test_space_shift_escape(sqlite_db: Database) -> None:
    ids = seed(sqlite_db, numbered_people(20))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        await pilot.press("space")
        assert table.selected_ids() == {ids[0]}
        assert table.cursor_index == 1
        assert line_texts(table)[1].startswith("●")
        await pilot.press("space", "space")
        assert table.selected_ids() == {ids[0], ids[1], ids[2]}
        await pilot.press("k", "space")  # unselect row 2 again
        assert table.selected_ids() == {ids[0], ids[1]}
        await pilot.press("j", "j", "j", "shift+down", "shift+down")
        assert table.selected_ids() == {ids[0], ids[1], ids[6], ids[7], ids[8]}
        await pilot.press("shift+up")
        assert table.cursor_index == 7
        # scrolling away and back keeps the selection
        await pilot.press("end")
        await settle(pilot, table)
        await pilot.press("home")
        await settle(pilot, table)
        assert table.selected_ids() == {ids[0], ids[1], ids[6], ids[7], ids[8]}
        await pilot.press(*["j"] * 7)
        await pilot.pause()
        assert count_line_text(screen) == "20 contacts · 5 selected"
        assert table.ids_for_action() == table.selected_ids()
        await pilot.press("escape")
        assert table.selected_ids() == frozenset()
        assert table.ids_for_action() == {ids[7]}
        await pilot.pause()
        assert count_line_text(screen) == "20 contacts"


async def test_select_all_invert_and_selection_survives_search(sqlite_db: Database) -> None:
    people = numbered_people(40)
    people += [Person(f"ann{i}@annex.org", "Ann", f"Zannex{i}") for i in range(5)]
    ids = seed(sqlite_db, people)
    ann_ids = set(ids[40:])
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        await pilot.press("space")  # First0000 Last0000 (sorted first by last name)
        first = ids[0]
        assert table.selected_ids() == {first}

        await pilot.press("slash", *"annex", "escape")
        await wait_until(pilot, lambda: table.count == 5)
        await settle(pilot, table)
        await wait_until(pilot, lambda: table.hidden_selected == 1)
        assert count_line_text(screen) == "5 of 45 contacts · 1 selected (1 hidden by the search)"

        await pilot.press("ctrl+a")
        await settle(pilot, table)
        assert table.selected_ids() == ann_ids | {first}
        await pilot.pause()
        assert count_line_text(screen) == "5 of 45 contacts · 6 selected (1 hidden by the search)"

        # invert within the search: the Anns go, the hidden one stays
        await pilot.press("space")  # unselect the first Ann, cursor moves down
        await pilot.press("asterisk")
        await settle(pilot, table)
        first_ann = min(ann_ids, key=lambda i: ids.index(i))
        assert table.selected_ids() == {first, first_ann}

        # the selection survives sorting and clearing the search
        await pilot.press("o")
        await settle(pilot, table)
        assert table.selected_ids() == {first, first_ann}
        await pilot.press("slash", "ctrl+u", "escape")
        await pilot.press("slash")
        app.focused.value = ""  # type: ignore[union-attr]
        await pilot.press("escape")
        await wait_until(pilot, lambda: table.count == 45)
        await settle(pilot, table)
        assert table.selected_ids() == {first, first_ann}
        assert count_line_text(screen) == "45 contacts · 2 selected"


async def test_select_all_without_search_selects_every_contact(db: Database) -> None:
    ids = seed(db, numbered_people(130))
    app = make_test_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        await pilot.press("ctrl+a")
        await settle(pilot, table)
        assert table.selected_ids() == set(ids)
        assert set(ContactsRepository(db).ids(ContactQuery())) == set(ids)
        await pilot.press("asterisk")
        await settle(pilot, table)
        assert table.selected_ids() == frozenset()


async def test_reload_after_a_database_change_keeps_the_cursor(sqlite_db: Database) -> None:
    ids = seed(sqlite_db, numbered_people(60))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        await pilot.press(*["j"] * 10)
        assert table.current_row is not None and table.current_row.id == ids[10]
        with sqlite_db.engine.begin() as conn:  # another session deletes two contacts
            conn.execute(contact_t.delete().where(contact_t.c.id.in_([ids[0], ids[1]])))
        table.reload()
        await wait_until(pilot, lambda: table.count == 58)
        await settle(pilot, table)
        assert count_line_text(screen) == "58 contacts"
        assert table.cursor_index == 10
        assert table.current_row is not None and table.current_row.id == ids[12]
        await pilot.press("end")
        await settle(pilot, table)
        with sqlite_db.engine.begin() as conn:
            conn.execute(contact_t.delete().where(contact_t.c.id.in_(ids[50:])))
        table.reload()
        await wait_until(pilot, lambda: table.count == 48)
        await settle(pilot, table)
        assert table.cursor_index == 47  # clamped to the new end
        assert table.current_row is not None and table.current_row.id == ids[49]


# -- safety: values are literal --------------------------------------------------------------
async def test_markup_and_escapes_are_shown_literally_and_trigger_nothing(
    sqlite_db: Database,
) -> None:
    seed(
        sqlite_db,
        [
            Person("a@evil.org", "[bold red]x", "Aaa"),
            Person("b@evil.org", "[@click=app.quit]", "Bbb"),
            Person("c@evil.org", "\x1b[31mred", "Ccc"),
        ],
    )
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        lines = line_texts(table)
        assert "[bold red]x Aaa" in lines[1]
        assert "[@click=app.quit] Bbb" in lines[2]
        assert "[31mred Ccc" in lines[3]
        assert all("\x1b" not in line for line in lines)
        # no style leaked from the "markup": the name cell is not bold/red
        strip = table.render_line(1)
        assert not any(
            seg.style is not None and seg.style.color is not None and seg.style.color.name == "red"
            for seg in strip
        )
        for x in (2, 5, 10):
            await pilot.click(table, offset=(x, 2))
            await pilot.pause()
        assert app.is_running
        assert table.cursor_index == 1


# -- empty state ---------------------------------------------------------------------------
async def test_empty_database_shows_help_and_demo_key_fills_it(sqlite_db: Database) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await wait_until(pilot, lambda: table.total == 0)
        await pilot.pause()
        empty = screen.query_one("#empty-state")
        assert empty.display and not table.display
        text = str(screen.query_one("#empty-text").render())
        assert "session-tui import FILE" in text and "D" in text
        await pilot.press("D")
        await wait_until(pilot, lambda: (table.total or 0) > 0, timeout=60)
        await settle(pilot, table)
        assert table.total == table.count == ContactsRepository(sqlite_db).total() > 0
        assert not empty.display and table.display
        # D does nothing on a database that has contacts
        await pilot.press("D")
        await pilot.pause(0.2)
        assert table.total == ContactsRepository(sqlite_db).total()


# -- app keys ------------------------------------------------------------------------------
async def test_help_lists_the_keys_of_the_screen(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-keys").render())
        for expected in (
            "Select every contact matching",
            "Invert the selection",
            "Search",
            "Quit",
            "Sort by the next column",
        ):
            assert expected in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_actions_by_name(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in ("Select all", "Invert selection", "Search", "Quit", "Products"):
            assert expected in titles
        assert "Contacts" not in titles  # the screen you are on
        selected = next(c for c in app.get_system_commands(app.screen) if c.title == "Select all")
        await selected.callback()
        await settle(pilot, contacts_screen(app).table)
        assert len(contacts_screen(app).table.selection) == 3


async def test_missing_screen_key_shows_notice(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        app_module.TOP_SCREENS, "nowhere", ("session_tui.ui.screens.nowhere", "X", "Nowhere")
    )
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.run_action("goto('nowhere')")
        await pilot.pause()
        assert any("Nowhere" in str(n.message) for n in app._notifications)
        assert app.current_mode == "contacts"


async def test_q_quits_outside_the_search_box(sqlite_db: Database) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


def test_count_line_wording() -> None:
    assert count_line(1204, 52310, 3, 1) == (
        "1,204 of 52,310 contacts · 3 selected (1 hidden by the filter)"
    )
    assert count_line(1, 1, 0, 0) == "1 contact"
    assert count_line(5, 5, 2, None) == "5 contacts · 2 selected (…)"
    assert count_line(None, None, 0, 0) == "Counting contacts…"


def test_title_hides_the_password(sqlite_db: Database) -> None:
    app = make_test_app(sqlite_db)
    assert "test.db" in app.sub_title
    sqlite_db.url = "postgresql+psycopg://user:secret@host/db"
    assert "secret" not in make_test_app(sqlite_db).sub_title
