"""Helpers for the Memberships / Products / Contact detail UI tests: a frozen clock,
seeding through the repositories (so history and active_until are real), waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from session_tui.data.db import Database
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.ui.app import SessionApp, make_app
from tests.ui.contacts_helpers import wait_until

NOW = datetime(2026, 3, 10, 12, 0, 0)


class FrozenClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seeded:
    products: dict[str, int]
    memberships: MembershipsRepository


def seed_memberships(db: Database, clock: FrozenClock | None = None) -> Seeded:
    """A small community: 3 products (one archived), 5 contacts, history of changes."""
    clock = clock or FrozenClock()
    products = ProductsRepository(db, clock)
    ids = {}
    for name in ("1:1 Coaching", "Course: Mindset Reset", "Retreat 2024"):
        ids[name] = products.add(name).id
    repo = MembershipsRepository(db, clock)
    day = timedelta(days=1)

    def grant(
        email: str,
        first: str,
        last: str,
        product: str,
        payment: str,
        started_days_ago: int,
        expires_in_days: int | None,
    ) -> int:
        expires = None if expires_in_days is None else NOW + expires_in_days * day
        expires = expires.replace(hour=0) if expires is not None else None
        res = repo.grant(
            email,
            product,
            payment,
            expires_at=expires,
            started_at=(NOW - started_days_ago * day).replace(hour=9),
            actor="coach",
            first_name=first,
            last_name=last,
        )
        return res.membership.id

    grant("ann.smith@example.org", "Ann", "Smith", "1:1 Coaching", "paid", 40, 5)
    m = grant("ann.smith@example.org", "Ann", "Smith", "Course: Mindset Reset", "paid", 200, -90)
    grant("ben.okafor@example.org", "Ben", "Okafor", "1:1 Coaching", "comped", 10, None)
    grant("chloe@example.org", "Chloé", "Müller", "Retreat 2024", "paid", 300, 60)
    c = grant("dmitri@example.org", "Dmitri", "Patel", "Course: Mindset Reset", "paid", 30, 300)
    grant(
        "mallory@example.org",
        "[bold red]Mallory",
        "[@click=app.quit]",
        "1:1 Coaching",
        "paid",
        5,
        30,
    )
    clock.now = NOW - 100 * day
    repo.change_payment(m, "free", actor="sam")
    clock.now = NOW - 20 * day
    repo.cancel(c, actor="sam")
    clock.now = NOW
    products.archive("Retreat 2024")
    return Seeded(ids, repo)


def make_frozen_app(db: Database, clock: FrozenClock | None = None) -> SessionApp:
    app = make_app(db=db)
    app.clock = clock or FrozenClock()  # type: ignore[attr-defined]
    return app


async def wait_for_screen(pilot: Pilot[Any], cls: type[Screen[Any]]) -> Any:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, cls))
    await pilot.pause()
    return app.screen


async def open_memberships(pilot: Pilot[Any]) -> Any:
    """From the start (Contacts) screen, once it shows its rows: `m`, then wait until the
    Memberships screen shows its rows. Returns the screen."""
    from session_tui.ui.screens.memberships import MembershipsScreen
    from tests.ui.contacts_helpers import contacts_screen, settle

    await settle(pilot, contacts_screen(pilot.app).table)
    await pilot.press("m")
    screen = await wait_for_screen(pilot, MembershipsScreen)
    await settle(pilot, screen.table)
    return screen


def data_tables_settled(screen: Screen[Any]) -> bool:
    """Every DataTable of the screen has measured its columns (done when idle)."""
    from textual.widgets import DataTable

    return all(
        not t._require_update_dimensions and not t._updated_cells for t in screen.query(DataTable)
    )
