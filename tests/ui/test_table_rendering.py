"""ContactsTable rows are built as Segments (`_row_strip`), not as Rich Text: they must
show exactly what the Text-based rendering showed -- same characters in the same
cells, same styles -- for tricky values (wide CJK names, emoji, markup and escape
sequences from the database, an empty name, long values cut with an ellipsis), at
any width, selected or not, under the cursor or not.

The reference below is the Text-based rendering the table used before (kept verbatim
here): every row the table renders is compared with it, character by character.

Also: a search does not refresh the screen's key bindings (the footer is not rebuilt)
unless the database becomes empty or stops being empty.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactRow
from session_tui.ui.user_text import literal
from session_tui.ui.widgets.contacts.table import ContactsTable, joined_text
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    make_test_app,
    seed,
    settle,
    wait_until,
)

SIZE = (120, 40)
JOINED = datetime(2024, 5, 17, 12)

LONG_EMAIL = "a-very-long-email-address-that-does-not-fit@an-extremely-long-domain.example.org"
CJK_NAME = "山田太郎山田太郎山田太郎山田太郎"  # 16 wide characters, 32 cells
MARKUP_FIRST = "[b]markup[/b]"
ESCAPE_LAST = "\x1b[31mred\x1b[0m\x07"

PEOPLE = [
    Person("cjk@example.org", CJK_NAME, "", JOINED, {"コーチング": True}),
    Person("emoji@example.org", "Zoë", "👩\u200d💻🇫🇷", JOINED, {"Course 🎓": False}),
    Person("markup@example.org", MARKUP_FIRST, ESCAPE_LAST, JOINED, {"[i]x[/i]": True}),
    Person("noname@example.org", "", "", JOINED),
    Person(LONG_EMAIL, "Long", "Email", JOINED),
    Person("用户@例子.测试", "Ｗｉｄｅ", "e\u0301\u0301", JOINED),
    Person(
        "many@example.org",
        "Many",
        "Products",
        JOINED,
        {
            "Alpha": True,
            "Beta 中文课程": False,
            "Gamma": True,
            "Delta": False,
            "Epsilon \x1b]0;title\x07": False,
            "Zeta 日本語の講座です": False,
        },
    ),
]


# -- the previous, Text-based rendering (the reference) ------------------------------------
def reference_products(row: ContactRow, dim: Style) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    ordered = sorted(row.products, key=lambda p: (not p[1], p[0].casefold()))
    for i, (name, active) in enumerate(ordered):
        if i:
            text.append(", ", style=dim)
        cell = literal(name)
        if not active:
            cell.stylize(dim)
        text.append_text(cell)
    return text


def reference_row(
    table: ContactsTable, row: ContactRow, selected: bool, cursor: bool, width: int
) -> Strip:
    component = table._component
    row_style = Style()
    if selected:
        row_style += component("selected")
    if cursor:
        row_style += component("cursor")
    text = Text(style=row_style)
    dim = component("dim")
    for col in table.columns(width):
        if col.key == "mark":
            cell = Text("● " if selected else "  ", style=component("mark"))
        elif col.key == "name":
            cell = literal(row.full_name) if row.full_name else Text("—", style=dim)
        elif col.key == "email":
            cell = literal(row.email)
        elif col.key == "status":
            cell = literal(row.status.value)
            cell.stylize(table._status_style(row.status))
        elif col.key == "products":
            cell = reference_products(row, dim)
        else:
            cell = Text(joined_text(row.created_at))
        cell.truncate(col.width, overflow="ellipsis", pad=True)
        text.append_text(cell)
        if col.key != "mark":
            text.append(" ")
    base = table.rich_style
    text.truncate(width, overflow="ellipsis", pad=True)
    segments = list(text.render(table.app.console, end=""))
    return Strip(segments).adjust_cell_length(width, base).apply_style(base)


def cells(strip: Strip) -> list[tuple[str, Style | None]]:
    """Every character of a line with its style (segment boundaries do not matter)."""
    return [(char, segment.style) for segment in strip for char in segment.text]


def row_strip(
    table: ContactsTable, row: ContactRow, selected: bool, cursor: bool, width: int
) -> Strip:
    return table._row_strip(row, selected, cursor, table._make_paint(width))


def column_text(table: ContactsTable, strip: Strip, width: int, key: str) -> str:
    x = 0
    for col in table.columns(width):
        if col.key == key:
            return strip.crop(x, x + col.width).text
        x += col.width + (col.key != "mark")
    raise KeyError(key)


def rows_by_email(table: ContactsTable) -> dict[str, ContactRow]:
    rows = [table.row_at(i) for i in range(table.count or 0)]
    return {row.email: row for row in rows if row is not None}


# -- tests -----------------------------------------------------------------------------------
async def test_rows_match_the_text_rendering(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        rows = rows_by_email(table)
        assert len(rows) == len(PEOPLE)
        # what the table paints (render_line, at the real width)
        table.select_ids([rows["markup@example.org"].id, rows[LONG_EMAIL].id])
        await pilot.pause()
        width = table.scrollable_content_region.width
        for y in range(1, len(PEOPLE) + 1):
            index = round(table.scroll_y) + y - 1
            row = table.row_at(index)
            assert row is not None
            expected = reference_row(
                table, row, row.id in table.selection, index == table.cursor_index, width
            )
            assert cells(table.render_line(y)) == cells(expected), row.email
        # every row, every selection / cursor state, wide to absurdly narrow widths
        # (below 55 cells the whole line is cut with an ellipsis too)
        for width in (160, 120, 119, 80, 61, 56, 55, 54, 41, 40, 30, 12, 3, 2, 1, 0):
            for row in rows.values():
                for selected in (False, True):
                    for cursor in (False, True):
                        got = row_strip(table, row, selected, cursor, width)
                        want = reference_row(table, row, selected, cursor, width)
                        assert cells(got) == cells(want), (row.email, width, selected, cursor)
                        assert got.cell_length == want.cell_length == width
        # the styles of the unfocused cursor differ (`:focus` in table.tcss): still equal
        table.blur()
        await pilot.pause()
        for row in rows.values():
            got = row_strip(table, row, False, True, 120)
            assert cells(got) == cells(reference_row(table, row, False, True, 120))


async def test_tricky_values_shown_literally_and_cut_with_an_ellipsis(
    sqlite_db: Database,
) -> None:
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        rows = rows_by_email(table)
        width = 120  # columns: mark 2, name 28, email 34, status 8, products 33, joined 10

        def cell(email: str, key: str) -> str:
            return column_text(
                table, row_strip(table, rows[email], False, False, width), width, key
            )

        # markup is text, the escape sequence's control characters are gone
        assert cell("markup@example.org", "name") == "[b]markup[/b] [31mred[0m".ljust(28)
        assert cell("markup@example.org", "products") == "[i]x[/i]".ljust(33)
        line = row_strip(table, rows["markup@example.org"], False, False, width)
        assert "\x1b" not in line.text and "\x07" not in line.text
        # an empty name
        assert cell("noname@example.org", "name") == "—".ljust(28)
        # a long email: 33 characters and an ellipsis
        assert cell(LONG_EMAIL, "email") == LONG_EMAIL[:33] + "…"
        # 32 cells of CJK into 28: 13 characters (26 cells), the 14th split -> a space
        assert cell("cjk@example.org", "name") == "山田太郎山田太郎山田太郎山 …"
        # emoji (a ZWJ sequence, a flag) and combining marks keep their cells
        assert cell("emoji@example.org", "name").startswith("Zoë 👩\u200d💻🇫🇷 ")
        assert cell("用户@例子.测试", "email").startswith("用户@例子.测试 ")
        # products: active first, then inactive (dim); cut with an ellipsis
        products = cell("many@example.org", "products")
        assert products.startswith("Alpha, Gamma, Beta 中文课程, ")
        assert products.endswith("…")
        assert "\x1b" not in products
        for row in rows.values():
            assert row_strip(table, row, False, False, width).cell_length == width


async def test_a_search_does_not_rebuild_the_footer(sqlite_db: Database) -> None:
    seed(sqlite_db, PEOPLE)
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        await pilot.press("slash")  # focus moves: the footer shows the search box's keys
        await pilot.pause()
        await pilot.pause()
        keys = list(screen.query_one(Footer).query(FooterKey))
        assert keys
        await pilot.press("z", "z", "z")
        await wait_until(pilot, lambda: table.contact_query.search == "zzz")
        await settle(pilot, table)
        assert table.count == 0 and table.total == len(PEOPLE)
        await pilot.pause()
        await pilot.pause()
        # the same FooterKey widgets: the count changes did not recompose the footer
        assert list(screen.query_one(Footer).query(FooterKey)) == keys


async def test_the_keys_follow_the_database_becoming_non_empty(sqlite_db: Database) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await wait_until(pilot, lambda: table.total == 0)
        await pilot.pause()

        def actions() -> set[str]:
            return {key.action for key in screen.query_one(Footer).query(FooterKey)}

        await wait_until(pilot, lambda: "fill_demo" in actions())
        assert "edit_contact" not in actions()
        seed(sqlite_db, PEOPLE[:2])
        table.reload()
        await wait_until(pilot, lambda: table.total == 2)
        await wait_until(pilot, lambda: "edit_contact" in actions())
        assert "fill_demo" not in actions()
