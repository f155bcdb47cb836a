"""Snapshot tests of the Contacts screen (pytest-textual-snapshot).

Fixed names, fixed dates (statuses from 2099 / 2001 expiry dates, TZ pinned to UTC
by conftest), the database path in the title replaced by a fixed text. Update with
`pytest tests/ui/test_snapshots_contacts.py --snapshot-update` after checking the
report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual.pilot import Pilot

from session_tui.data.db import Database
from session_tui.ui.app import SessionApp
from tests.ui.contacts_helpers import Person, contacts_screen, make_test_app, seed, settle

SIZE = (120, 40)

FIRST = [
    "Ann",
    "Ben",
    "Chloé",
    "Dmitri",
    "Emma",
    "Fatima",
    "Giulia",
    "Hiroshi",
    "Inês",
    "Jean-Luc",
    "Kwame",
    "Léa",
    "Mateo",
    "Nils",
    "Olga",
    "Priya",
    "Quentin",
    "Rahul",
    "Siobhán",
    "Tane",
    "Uma",
    "Valentina",
    "Wei",
    "Yael",
    "Zoë",
]
LAST = [
    "O'Brien",
    "Müller",
    "García",
    "Smith-Jones",
    "van der Berg",
    "Okafor",
    "Patel",
    "Tanaka",
    "Nguyễn",
    "Kowalski",
    "Haddad",
    "Andersen",
    "Rossi",
    "Silva",
    "Cohen",
]
PRODUCTS = ["1:1 Coaching", "Group Program", "Course: Mindset Reset"]


def people() -> list[Person]:
    out = []
    for i in range(60):
        first = FIRST[i % len(FIRST)]
        last = LAST[(i * 7) % len(LAST)]
        handle = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        products: dict[str, bool] = {}
        if i % 4 != 3:
            products[PRODUCTS[i % 3]] = i % 5 != 0
        if i % 6 == 1:
            products[PRODUCTS[(i + 1) % 3]] = False
        out.append(
            Person(
                email=f"{handle}{i}@example.org",
                first=first,
                last=last,
                joined=datetime(2025, 1 + i % 12, 1 + (i * 3) % 28, 12, 0, 0),
                products=products,
            )
        )
    out.append(Person("mallory@example.org", "[bold red]Mallory", "[@click=app.quit]"))
    return out


def prepare(db: Database, *keys: str) -> tuple[SessionApp, Callable[[Pilot[Any]], Any]]:
    app = make_test_app(db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        table = contacts_screen(app).table
        await settle(pilot, table)
        for key in keys:
            await pilot.press(key)
            await settle(pilot, table)
        await pilot.pause()

    return app, run_before


def test_contacts_screen(snap_compare: Any, sqlite_db: Database) -> None:
    seed(sqlite_db, people())
    app, run_before = prepare(sqlite_db, "space", "space", "j", "j")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_contacts_search_and_sort(snap_compare: Any, sqlite_db: Database) -> None:
    seed(sqlite_db, people())
    app, run_before = prepare(sqlite_db, "o", "O", "slash", "a", "n", "escape")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_contacts_empty_state(snap_compare: Any, sqlite_db: Database) -> None:
    app = make_test_app(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        table = contacts_screen(app).table
        while table.total is None:
            await pilot.pause(0.01)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_modal(snap_compare: Any, sqlite_db: Database) -> None:
    seed(sqlite_db, people()[:5])
    app, run_before = prepare(sqlite_db, "question_mark")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
