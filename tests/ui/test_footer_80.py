"""The footer at 80x24 (docs/decisions.md, "Footer at 80 columns"): on every screen a
user works in, each key the footer shows is whole, left of the `^p palette` key (the
keys that do not fit slide under it, cut); the most used keys are among them; the
keys kept out of the footer are still in `?` help and the command palette."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from session_tui.data.db import Database
from session_tui.data.filters import parse
from session_tui.data.repositories.segments import SegmentsRepository
from session_tui.ui.app import SessionApp, make_app
from session_tui.ui.screens.help import collect_keys
from session_tui.ui.screens.memberships import MembershipsScreen
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until
from tests.ui.memberships_helpers import make_frozen_app, seed_memberships, wait_for_screen
from tests.ui.test_snapshots_80x24 import (
    Steps,
    contact_detail,
    contacts,
    filter_two_groups,
    products,
)

SIZE = (80, 24)


async def memberships(pilot: Pilot[Any], app: SessionApp) -> None:
    await pilot.press("m")
    screen = await wait_for_screen(pilot, MembershipsScreen)
    await settle(pilot, screen.table)
    await wait_until(pilot, lambda: screen._products_loaded)


async def memberships_filters(pilot: Pilot[Any], app: SessionApp) -> None:
    await memberships(pilot, app)
    await pilot.press("f")  # the filter row has the focus: `esc Table` joins the footer
    await wait_until(pilot, lambda: app.focused is not app.screen.table)


# scenario -> the keys its footer must show whole (with the default keys)
EXPECTED: dict[str, tuple[Steps, list[str]]] = {
    "contacts": (
        contacts,
        [
            "space Select",
            "⏎ Open",
            "a Add",
            "A Actions",
            "d Delete",
            "e Edit",
            "f Filter",
            "? Help",
        ],
    ),
    "contacts_filter_panel": (filter_two_groups, ["esc Table", "^n New condition"]),
    "contact_detail": (
        contact_detail,
        ["esc Back", "a Add", "x Expiry", "d Cancel", "t Payment", "? Help"],
    ),
    "memberships": (
        memberships,
        ["f Filter", "a Add", "A Actions", "x Expiry", "d Cancel", "⏎ Open", "? Help"],
    ),
    "memberships_filters": (
        memberships_filters,
        ["esc Table", "f Filter", "a Add", "A Actions", "d Cancel", "? Help"],
    ),
    "products": (products, ["⏎ Memberships", "a Add", "r Rename", "d Archive", "? Help"]),
}


def seeded_app(db: Database) -> SessionApp:
    """The app on the memberships seed, with a segment (the filter panel waits for
    its segment list)."""
    seed_memberships(db)
    SegmentsRepository(db).save("Coaching", parse('product:"1:1 Coaching"'))
    return make_frozen_app(db)


def whole_footer_keys(app: SessionApp) -> list[str]:
    """The footer's keys ("key description"); fails if one is cut or hidden under the
    palette key."""
    keys = list(app.screen.query_one(Footer).query(FooterKey))
    palette = next(k for k in keys if k.has_class("-command-palette"))
    shown = [k for k in keys if k is not palette]
    for key in shown:
        assert key.region.right <= palette.region.x, (
            f"{key.key_display} {key.description} is cut at {SIZE[0]} columns: "
            f"{[f'{k.key_display} {k.description}' for k in shown]}"
        )
    return [f"{k.key_display} {k.description}" for k in shown]


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_the_footer_ends_on_a_whole_key_at_80_columns(sqlite_db: Database, name: str) -> None:
    steps, expected = EXPECTED[name]
    app = seeded_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await steps(pilot, app)
        await pilot.pause()
        footer = whole_footer_keys(app)
        assert [k for k in expected if k not in footer] == [], footer


async def test_the_empty_contacts_screen_offers_demo_data_whole(sqlite_db: Database) -> None:
    app = make_app(db=sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        await wait_until(pilot, lambda: screen.table.count == 0)
        await pilot.pause()
        footer = whole_footer_keys(app)
        assert footer[0] == "D Demo data", footer


async def test_keys_kept_out_of_the_footer_are_in_help_and_the_palette(
    sqlite_db: Database,
) -> None:
    app = seeded_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        for screen_steps, hidden in (
            (contacts, {"Search", "Sort", "Import", "Export", "Memberships", "Products", "Quit"}),
            (memberships, {"Search", "Payment", "Contacts", "Products", "Quit"}),
        ):
            await screen_steps(pilot, app)
            await pilot.pause()
            shown = {k.description for k in app.screen.query(FooterKey)}
            assert not hidden & shown  # kept out of the footer…
            in_help = {k.description for k in collect_keys(app.screen)}
            assert hidden <= in_help  # …but in `?` help
            titles = {c.title for c in app.get_system_commands(app.screen)}
            assert hidden <= titles  # …and the palette
