"""Helpers for the UI tests: seeded databases, the app, waiting for the table.

Data is inserted with plain Core inserts (executemany), with fixed dates: statuses
come from `active_until` far in the future (2099) or the past (2001), so what the
tests see does not depend on today's date.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from textual.pilot import Pilot

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database
from session_tui.data.tables import contact_t, membership_t, product_t
from session_tui.ui.app import SessionApp, make_app
from session_tui.ui.screens.contacts import ContactsScreen
from session_tui.ui.widgets.contacts.table import ContactsTable

JOINED = datetime(2025, 3, 1, 12, 0, 0)
ACTIVE_UNTIL = datetime(2099, 1, 1)
EXPIRED_AT = datetime(2001, 1, 1)


@dataclass
class Person:
    email: str
    first: str = ""
    last: str = ""
    joined: datetime = JOINED
    # product name -> active?
    products: dict[str, bool] = field(default_factory=dict)


def seed(db: Database, people: Sequence[Person]) -> list[int]:
    """Insert people (and their memberships, keeping active_until right); returns ids."""
    with db.engine.begin() as conn:
        products: dict[str, int] = {}
        for name in sorted({p for person in people for p in person.products}):
            res = conn.execute(
                product_t.insert().values(name=name, archived=False, created_at=JOINED)
            )
            products[name] = int(res.inserted_primary_key[0])
        ids: list[int] = []
        rows = []
        for person in people:
            active_until = None
            if person.products:
                active_until = ACTIVE_UNTIL if any(person.products.values()) else EXPIRED_AT
            rows.append(
                dict(
                    email=person.email,
                    first_name=person.first,
                    last_name=person.last,
                    created_at=person.joined,
                    updated_at=person.joined,
                    version=1,
                    active_until=active_until,
                )
            )
        conn.execute(contact_t.insert(), rows)
        by_email = dict(
            conn.execute(
                contact_t.select()
                .with_only_columns(contact_t.c.email, contact_t.c.id)
                .where(contact_t.c.email.in_([p.email for p in people]))
            ).all()
        )
        ids = [int(by_email[p.email]) for p in people]
        memberships = [
            dict(
                contact_id=cid,
                product_id=products[name],
                payment_type="paid",
                started_at=person.joined,
                expires_at=ACTIVE_UNTIL if active else EXPIRED_AT,
                cancelled_at=None,
            )
            for cid, person in zip(ids, people, strict=True)
            for name, active in person.products.items()
        ]
        if memberships:
            conn.execute(membership_t.insert(), memberships)
    assert FAR_FUTURE > ACTIVE_UNTIL
    return ids


def numbered_people(n: int, domain: str = "example.com") -> list[Person]:
    """n people with sortable names: Person 000 … (last names sort like the numbers)."""
    return [
        Person(
            email=f"p{i:04d}@{domain}",
            first=f"First{i:04d}",
            last=f"Last{i:04d}",
            joined=datetime(2024, 1, 1, 12, 0, 0).replace(day=1 + i % 28),
            products={"Course": i % 2 == 0} if i % 3 else {},
        )
        for i in range(n)
    ]


def make_test_app(db: Database) -> SessionApp:
    return make_app(db=db)


def contacts_screen(app: SessionApp) -> ContactsScreen:
    screen = app.get_screen_stack("contacts")[0]
    assert isinstance(screen, ContactsScreen)
    return screen


async def wait_until(
    pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Let the app run until `predicate()` holds (workers are threads)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.01)


def visible_rows_loaded(table: ContactsTable) -> bool:
    if table.is_loading or table.count is None:
        return False
    top = round(table.scroll_y)
    end = min(table.count, top + table.body_height)
    return all(table.row_at(i) is not None for i in range(top, end))


async def settle(pilot: Pilot[None], table: ContactsTable) -> None:
    """Wait until the table shows its latest query with every visible row loaded."""
    await wait_until(pilot, lambda: visible_rows_loaded(table) and not table.selection_pending)
    await pilot.pause()


def line_texts(table: ContactsTable) -> list[str]:
    """The rendered text of every line of the table (header first)."""
    return [table.render_line(y).text for y in range(table.size.height)]


def count_line_text(screen: ContactsScreen) -> str:
    return str(screen.query_one("#count-line").render())
