"""Injection: values holding Textual/Rich markup or terminal escape sequences are
shown literally on every screen and trigger nothing; SQL in search and filter text
stays text; exported formula-like cells are escaped and round-trip.

The hostile rows are written with plain Core inserts, bypassing validation: data
that another program (the web admin, an older version, a hand-edited database)
put there. What the terminal would receive is rendered with the app's own
compositor (`helpers.capture`): the plain text must hold the literal brackets, and
the output must hold no screen clear, window title, hyperlink or bell.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from textual import events
from textual.screen import ModalScreen
from textual.widgets import Input

from session_tui.data.csvio import import_csv
from session_tui.data.csvio.exporter import export_csv
from session_tui.data.db import Database, open_database
from session_tui.data.filters import FilterSyntaxError, parse
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t, event_t, membership_t, product_t, segment_t
from session_tui.ui.app import SessionApp, make_app
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.edit_contact import EditContactModal
from session_tui.ui.screens.contact_detail import ContactDetailScreen
from session_tui.ui.screens.help import HelpScreen
from tests.reliability.helpers import BOLD, CLEAR, LINK, MARKUP, TITLE, capture, stray_controls
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until

SIZE = (140, 40)
T0 = datetime(2026, 1, 1, 12, 0, 0)
FAR = datetime(2099, 1, 1)

# (email, first name, last name): each hostile token fits its column whole.
HOSTILE_PEOPLE = [
    ("aa-click@example.com", MARKUP, "Clicker"),
    ("bb-link@example.com", LINK, "Linker"),
    ("cc-bold@example.com", BOLD + "Bolder", "x"),
    (f"dd{CLEAR}clear@example.com", f"Esc{CLEAR}Clear", f"Title{TITLE}End"),
    ("ee-rich@example.com", "[/]", "[red]Rich[/red]"),
]
HOSTILE_PRODUCT = f"{MARKUP}Course"
HOSTILE_PRODUCT_2 = f"{BOLD}{TITLE}Retreat"


def seed_hostile(db: Database) -> dict[str, int]:
    """Hostile contacts, products, memberships, history and a segment, stored raw."""
    with db.engine.begin() as conn:
        ids: dict[str, int] = {}
        for email, first, last in HOSTILE_PEOPLE:
            ids[email] = conn.execute(
                insert(contact_t)
                .values(
                    email=email,
                    first_name=first,
                    last_name=last,
                    created_at=T0,
                    updated_at=T0,
                    version=1,
                    active_until=FAR,
                )
                .returning(contact_t.c.id)
            ).scalar_one()
        products = []
        for name in (HOSTILE_PRODUCT, HOSTILE_PRODUCT_2):
            products.append(
                conn.execute(
                    insert(product_t)
                    .values(name=name, archived=False, created_at=T0)
                    .returning(product_t.c.id)
                ).scalar_one()
            )
        for n, cid in enumerate(ids.values()):
            mid = conn.execute(
                insert(membership_t)
                .values(
                    contact_id=cid,
                    product_id=products[n % 2],
                    payment_type="paid",
                    started_at=T0,
                    expires_at=None,
                    cancelled_at=None,
                )
                .returning(membership_t.c.id)
            ).scalar_one()
            conn.execute(
                insert(event_t).values(
                    membership_id=mid,
                    at=T0,
                    kind="granted",
                    detail=f"paid {LINK}{CLEAR}",
                    actor=f"{MARKUP}{TITLE}",
                )
            )
        conn.execute(
            insert(segment_t).values(
                name=f"{MARKUP} seg",
                filter='{"mode": "and", "items": []}',
                created_at=T0,
                updated_at=T0,
            )
        )
    return ids


def assert_clean(app: SessionApp, *expected: str) -> str:
    """The screen shows every `expected` text literally; nothing hostile reaches
    the terminal; the app still runs."""
    shot = capture(app)
    assert stray_controls(shot.ansi) == []
    for piece in expected:
        assert piece in shot.text, (piece, shot.text)
    assert app.is_running and app.return_code is None
    return shot.text


async def shows(pilot: Any, app: SessionApp, *pieces: str) -> None:
    await wait_until(pilot, lambda: all(p in capture(app).text for p in pieces))


def paste(app: SessionApp, text: str) -> None:
    """What the driver does with a bracketed paste: the app forwards it to the focus."""
    app.post_message(events.Paste(text))


async def test_every_screen_shows_hostile_values_literally(sqlite_db: Database) -> None:
    db = sqlite_db
    seed_hostile(db)
    app = make_app(db=db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        # Contacts table: every token whole, the escape sequences without their ESC.
        await shows(pilot, app, MARKUP, LINK, BOLD + "Bolder", "Esc[2JClear")
        assert_clean(app, "[red]Rich[/red]", "dd[2Jclear@example.com", HOSTILE_PRODUCT)

        # Click the cell that reads [@click=app.quit]: nothing happens but a cursor move.
        row_y = next(y for y in range(table.size.height) if MARKUP in table.render_line(y).text)
        await pilot.click(table, offset=(4, row_y))
        await pilot.pause()
        assert_clean(app, MARKUP)

        # Contact detail of each hostile contact (head, sub title, memberships, history).
        # The link one and the one with an escape sequence in its email (sub title).
        wanted = ("bb-link@example.com", f"dd{CLEAR}clear@example.com")
        indices = [i for i in range(len(HOSTILE_PEOPLE)) if table.row_at(i).email in wanted]  # type: ignore[union-attr]
        assert len(indices) == 2
        for index in indices:
            table.move_cursor(index)
            await pilot.pause()
            row = table.current_row
            assert row is not None
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ContactDetailScreen))
            await shows(pilot, app, "History")
            await wait_until(pilot, lambda: app.screen.data is not None)  # type: ignore[attr-defined]
            await pilot.pause()
            text = assert_clean(app)
            shown_name = row.first_name.replace("\x1b", "").replace("\x07", "")
            assert shown_name[:20] in text
            assert MARKUP in text  # the actor column
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, ContactDetailScreen))

        # Edit modal: the values are in the inputs literally.
        table.move_cursor(0)
        await pilot.pause()
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
        await pilot.pause()
        assert_clean(app, MARKUP, "Clicker")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))

        # Delete confirmation lists names and emails literally; cancel.
        for key in ("space", "space", "space", "space", "space"):
            await pilot.press(key)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.pause()
        assert_clean(app, MARKUP, LINK, "Esc[2JClear")
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        await pilot.press("escape")

        # Add membership modal: hostile product names in the select.
        await pilot.press("a")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "AddMembershipModal")
        product = app.screen.query_one("#product")
        await wait_until(pilot, lambda: len(product._options) > 2)  # type: ignore[attr-defined]
        await pilot.press("tab")  # to the product select
        await pilot.press("enter")  # open it
        await shows(pilot, app, HOSTILE_PRODUCT)
        assert_clean(app, HOSTILE_PRODUCT)
        await pilot.press("escape")
        await pilot.press("escape")
        await wait_until(pilot, lambda: type(app.screen).__name__ != "AddMembershipModal")

        # Memberships screen.
        await pilot.press("m")
        await shows(pilot, app, MARKUP, HOSTILE_PRODUCT)
        assert_clean(app, LINK, "Esc[2JClear")
        # Its modals show the membership summary (name · product · …) literally.
        for key, close in (("x", "escape"), ("t", "escape"), ("d", "n")):
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, ModalScreen))
            await pilot.pause()
            text = assert_clean(app, "never expires")
            assert MARKUP in text or BOLD in text
            await pilot.press(close)
            await wait_until(pilot, lambda: not isinstance(app.screen, ModalScreen))

        # Products screen and its rename modal ("Now: <name>").
        await pilot.press("p")
        await shows(pilot, app, HOSTILE_PRODUCT, f"{BOLD}]0;titleRetreat")
        assert_clean(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ProductNameModal")
        await pilot.pause()
        assert_clean(app, f"Now: {HOSTILE_PRODUCT}")
        await pilot.press("escape")

        # Help and the palette (typing markup into the palette's search box).
        await pilot.press("c")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        assert_clean(app)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen.focused, Input))
        paste(app, f"{MARKUP}{CLEAR}")
        await shows(pilot, app, MARKUP + "[2J")
        assert_clean(app, MARKUP)
        await pilot.press("escape")
        await pilot.pause()
        assert_clean(app)
    assert app.return_code is None


async def test_typed_and_pasted_hostile_text_is_literal_and_saved_clean(
    sqlite_db: Database,
) -> None:
    """A user pastes markup and escape sequences into the search box and the edit
    form: shown literally, saved without control characters, and the notification
    after saving shows the name literally."""
    db = sqlite_db
    ids = seed_hostile(db)
    app = make_app(db=db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)
        await pilot.press("slash")
        paste(app, "[b]x' OR 1=1 --")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.table.count == 0 and not screen.table.is_loading)
        assert_clean(app, "[b]x' OR 1=1 --")
        screen.search_input.value = ""
        await pilot.press("slash", "enter")
        await wait_until(pilot, lambda: screen.table.count == len(HOSTILE_PEOPLE))
        await settle(pilot, screen.table)

        # the row of aa-click@example.com (names sort by collation, so find it)
        row = next(
            i
            for i in range(screen.table.count or 0)
            if (r := screen.table.row_at(i)) is not None and r.email == "aa-click@example.com"
        )
        screen.table.move_cursor(row)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
        await pilot.pause()
        first = app.screen.query_one("#edit-first_name", Input)
        first.value = ""
        paste(app, f"[@click=app.quit]{CLEAR}Ann{TITLE}")
        await pilot.pause()
        assert_clean(app, "[@click=app.quit][2JAnn]0;title")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))
        await shows(pilot, app, "Saved [@click=app.quit]")
        assert_clean(app)
    with db.engine.connect() as conn:
        saved = conn.execute(
            select(contact_t.c.first_name).where(contact_t.c.id == ids["aa-click@example.com"])
        ).scalar_one()
    assert saved == "[@click=app.quit][2JAnn]0;title"  # stored without ESC/BEL


# -- SQL stays text -------------------------------------------------------------------

SQL_TEXTS = [
    "' OR '1'='1",
    "x'; DROP TABLE contact; --",
    '" OR ""="',
    "%",
    "_",
    "\\",
    "*",
    "a%b_c",
    "NEAR(a b)",
    '") OR 1=1 --',
    "contact_fts MATCH '*'",
]


@pytest.mark.parametrize("term", SQL_TEXTS)
def test_sql_in_search_and_filters_stays_text(db: Database, term: str) -> None:
    from tests.helpers import add_contacts

    add_contacts(
        db,
        [
            ("plain@example.com", "Plain", "Person"),
            ("other@example.org", "Other", "One"),
            ("pct@example.com", "Fifty%Off", "Under_Score"),
        ],
    )
    repo = ContactsRepository(db)
    expected = {
        cid
        for cid, first, last, email in [
            (r.id, r.first_name, r.last_name, r.email) for r in repo.page(ContactQuery(), 0, 10)
        ]
        if term.lower() in f"{first} {last}".lower() or term.lower() in email
    }
    got = set(repo.ids(ContactQuery(search=term)))
    assert got == expected
    quoted = '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'
    for text in (
        f"search:{quoted}",
        f"domain:{quoted}",
        f"product:{quoted}",
        f"not product:{quoted}",
    ):
        try:
            flt = parse(text)
        except FilterSyntaxError:
            assert text.startswith("domain:")  # not a domain: refused with a message
            continue
        n = repo.count(ContactQuery(filter=flt))
        assert 0 <= n <= 3
    assert repo.count(ContactQuery(filter=parse(f"not product:{quoted}"))) == 3
    assert repo.count(ContactQuery(filter=parse(f"search:{quoted}"))) == len(expected)
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contact_t)).scalar_one() == 3


def test_product_and_segment_names_with_sql_are_stored_as_text(db: Database) -> None:
    products = ProductsRepository(db)
    evil = "x'); DROP TABLE product; --"
    row = products.add(evil)
    assert products.get(evil) is not None and row.name == evil
    from session_tui.data.repositories.segments import SegmentsRepository

    segs = SegmentsRepository(db)
    segs.save("'; DELETE FROM segment; --", parse(f'product:"{evil}"'))
    assert segs.names() == ["'; DELETE FROM segment; --"]
    assert ContactsRepository(db).count(ContactQuery(filter=parse(f'product:"{evil}"'))) == 0


# -- export escaping ------------------------------------------------------------------

FORMULA_PEOPLE = [
    ("=1+2@example.com", '=HYPERLINK("http://x")', "+SUM(A1)"),
    ("-x@example.com", "-2+3", "@cmd"),
    ("+y@example.com", "\t=tab", "\r=cr"),
    ("plain@example.com", "'=already", "''"),
    ("q@example.com", "=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"),
]


def test_exported_formula_cells_are_escaped_and_round_trip(db: Database, tmp_path: Path) -> None:
    from tests.helpers import add_contacts

    # Names as stored (validation folds \t and \r away; these rows are written raw).
    add_contacts(db, FORMULA_PEOPLE)
    out = tmp_path / "export.csv"
    assert export_csv(db, out) == len(FORMULA_PEOPLE)
    raw = out.read_text(encoding="utf-8")
    cells = [cell for row in csv.reader(io.StringIO(raw)) for cell in row]
    for cell in cells:
        assert not cell or cell[0] not in "=+-@\t\r", cell

    fresh = open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        report = import_csv(fresh, out)
        assert report.added == len(FORMULA_PEOPLE)
        with fresh.engine.connect() as conn:
            back = {
                tuple(r)
                for r in conn.execute(
                    select(contact_t.c.email, contact_t.c.first_name, contact_t.c.last_name)
                )
            }
    finally:
        fresh.dispose()
    # What validation keeps of each name (tabs/CRs are whitespace: folded, trimmed).
    from session_tui.data.validation import normalize_name

    assert back == {(e, normalize_name(f), normalize_name(la)) for e, f, la in FORMULA_PEOPLE}


async def test_filter_panel_segments_and_import_preview_show_hostile_values_literally(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """The filter builder (typed text with markup and SQL, product choices, the
    segment list), saving a segment with a hostile name, and the import preview of
    a file full of markup and escape sequences."""
    db = sqlite_db
    seed_hostile(db)
    hostile_csv = tmp_path / "hostile.csv"
    with open(hostile_csv, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "first_name", "last_name"])
        writer.writerow(["new1@example.com", MARKUP, f"Esc{CLEAR}Ape"])
        writer.writerow([f"bad{TITLE}@", LINK, "x"])
    app = make_app(db=db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)

        # The filter text: markup, an escape sequence and SQL in quoted values.
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen.focused, Input))
        paste(app, f'product:"{HOSTILE_PRODUCT}" or search:"x\' OR 1=1 --{CLEAR}"')
        await wait_until(pilot, lambda: screen.table.contact_query.filter is not None)
        await wait_until(pilot, lambda: not table.is_loading and table.count == 3)
        await settle(pilot, table)
        assert_clean(app, HOSTILE_PRODUCT, "3 of 5 contacts")

        # Save it as a segment whose name is hostile; the notification is literal.
        await pilot.press("escape")  # back to the table
        await pilot.press("s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "SegmentNameModal")
        name_box = app.screen.query_one(Input)
        name_box.value = ""
        name_box.focus()
        paste(app, f"{LINK}{CLEAR} vip")
        await pilot.pause()
        assert_clean(app, LINK)
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ != "SegmentNameModal")
        await wait_until(pilot, lambda: len(app._notifications) > 0)
        await pilot.pause()
        assert_clean(app, f"{LINK}[2J vip")
        with db.engine.connect() as conn:
            names = set(conn.execute(select(segment_t.c.name)).scalars())
        assert f"{LINK}[2J vip" in names  # stored without the ESC

        # The segment list: both hostile names, literally.
        select_widget = app.screen.query_one("#segment-select")
        select_widget.focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert_clean(app, f"{MARKUP} seg", f"{LINK}[2J vip")
        await pilot.press("escape")

        # The import preview of a hostile file.
        table.focus()
        await pilot.press("f")  # hide the panel
        await pilot.press("i")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ImportCsvModal")
        modal: Any = app.screen
        modal.query_one("#import-path", Input).value = str(hostile_csv)
        await pilot.press("enter")
        await wait_until(pilot, lambda: modal.report is not None and not modal._busy)
        await pilot.pause()
        assert_clean(app, f"{MARKUP} E", "bad]0;title@")
        modal.action_escape()
        await wait_until(pilot, lambda: app.screen is not modal)
        assert app.is_running
