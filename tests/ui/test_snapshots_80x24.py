"""Every screen and dialog at 80x24, the smallest terminal the app supports.

Each snapshot is taken on the real app (the screen under the dialog included), with
fixed data: the membership seed of memberships_helpers (frozen clock, TZ pinned to
UTC by conftest) and a fixed database name in the title. What they pin: every
button and every key hint of the dialog is on screen, and no column is cut to
nothing. Update with `pytest tests/ui/test_snapshots_80x24.py --snapshot-update`
after looking at the report.

`SCENARIOS` maps a name to the steps that open the screen or dialog.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from session_tui.data.db import Database
from session_tui.data.filters import parse
from session_tui.data.repositories.segments import SegmentsRepository
from session_tui.ui.app import SessionApp
from session_tui.ui.modals.add_membership import AddMembershipModal
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.edit_contact import EditContactModal
from session_tui.ui.modals.export_csv import ExportCsvModal
from session_tui.ui.modals.import_csv import ImportCsvModal
from session_tui.ui.modals.membership_actions import (
    CancelMembershipModal,
    ExpiryModal,
    PaymentModal,
)
from session_tui.ui.screens.contact_detail import ContactDetailScreen
from session_tui.ui.screens.help import HelpScreen
from session_tui.ui.screens.memberships import MembershipsScreen
from session_tui.ui.screens.products import ProductsScreen
from session_tui.ui.widgets.filter_panel import panel_of
from session_tui.ui.widgets.path_input import PathInput
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until
from tests.ui.memberships_helpers import (
    data_tables_settled,
    make_frozen_app,
    seed_memberships,
    wait_for_screen,
)

SIZE = (80, 24)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "csv"
TWO_GROUPS = (
    '(product:"1:1 Coaching" or product:"Course: Mindset Reset") '
    "and (status:active or payment:comped)"
)

Steps = Callable[[Pilot[Any], SessionApp], Awaitable[None]]
Built = tuple[SessionApp, Callable[[Pilot[Any]], Awaitable[None]]]


def build(db: Database, steps: Steps) -> Built:
    seed_memberships(db)
    app = make_frozen_app(db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///community.db"
        await settle(pilot, contacts_screen(app).table)
        await steps(pilot, app)
        for screen in app.screen_stack:  # a blinking cursor would differ from run to run
            for box in screen.query(Input):
                box.cursor_blink = False
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return app, run_before


async def to_row(pilot: Pilot[Any], app: SessionApp, email: str) -> None:
    table = contacts_screen(app).table
    index = next(
        i
        for i in range(table.count or 0)
        if (r := table.row_at(i)) is not None and r.email == email
    )
    table.move_cursor(index)
    await settle(pilot, table)


async def _import(pilot: Pilot[Any], app: SessionApp, confirm: bool) -> None:
    await pilot.press("i")
    modal = await wait_for_screen(pilot, ImportCsvModal)
    modal.query_one("#import-path", PathInput).value = "verdicts.csv"
    await pilot.press("enter")
    await wait_until(pilot, lambda: modal.stage == "preview" and not modal._busy)
    if confirm:
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
    else:  # the button is laid out for its new label ("Import 4 new contacts (y)")
        button = modal.query_one("#import-confirm", Button)
        await wait_until(pilot, lambda: button.size.width >= len(str(button.label)))
        detail = modal.query_one("#import-row-detail", Static)
        await wait_until(pilot, lambda: "Line 2" in str(detail.render()))
        await wait_until(pilot, lambda: data_tables_settled(modal))


async def import_preview(pilot: Pilot[Any], app: SessionApp) -> None:
    await _import(pilot, app, confirm=False)


async def import_summary(pilot: Pilot[Any], app: SessionApp) -> None:
    await _import(pilot, app, confirm=True)


async def export(pilot: Pilot[Any], app: SessionApp) -> None:
    await pilot.press("x")
    modal = await wait_for_screen(pilot, ExportCsvModal)
    await wait_until(pilot, lambda: not getattr(modal, "_busy", False))
    modal.query_one("#export-path", PathInput).value = "contacts-2026-03-10.csv"  # not today


async def edit(pilot: Pilot[Any], app: SessionApp) -> None:
    await to_row(pilot, app, "chloe@example.org")
    await pilot.press("e")
    modal = await wait_for_screen(pilot, EditContactModal)
    modal.query_one("#edit-email", Input).value = "chloe@@example"
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: modal.query_one("#email-error").display)


async def delete_confirm(pilot: Pilot[Any], app: SessionApp) -> None:
    table = contacts_screen(app).table
    await pilot.press("space", "space", "space")
    await settle(pilot, table)
    await pilot.press("d")
    await wait_for_screen(pilot, ConfirmModal)


async def add_membership(pilot: Pilot[Any], app: SessionApp) -> None:
    await to_row(pilot, app, "ben.okafor@example.org")
    await pilot.press("a")
    modal = await wait_for_screen(pilot, AddMembershipModal)
    await wait_until(pilot, lambda: len(modal.query_one("#product")._options) > 1)  # type: ignore[attr-defined]


async def _memberships_then(pilot: Pilot[Any], key: str, modal: type[Any]) -> None:
    await pilot.press("m")
    screen = await wait_for_screen(pilot, MembershipsScreen)
    await settle(pilot, screen.table)
    await wait_until(pilot, lambda: screen._products_loaded)
    await pilot.press(key)
    await wait_for_screen(pilot, modal)


async def extend(pilot: Pilot[Any], app: SessionApp) -> None:
    await _memberships_then(pilot, "x", ExpiryModal)


async def payment(pilot: Pilot[Any], app: SessionApp) -> None:
    await _memberships_then(pilot, "t", PaymentModal)


async def cancel(pilot: Pilot[Any], app: SessionApp) -> None:
    await _memberships_then(pilot, "d", CancelMembershipModal)


async def filter_two_groups(pilot: Pilot[Any], app: SessionApp) -> None:
    screen = contacts_screen(app)
    await pilot.press("f")
    await wait_until(pilot, lambda: panel_of(screen) is not None)
    panel = panel_of(screen)
    assert panel is not None
    await wait_until(pilot, lambda: bool(panel.products) and bool(panel.segments))
    await panel.set_tree(parse(TWO_GROUPS))
    await wait_until(pilot, lambda: screen.table.contact_query.filter is not None)
    await settle(pilot, screen.table)
    panel.text_input.focus()


async def help_screen(pilot: Pilot[Any], app: SessionApp) -> None:
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)


async def products(pilot: Pilot[Any], app: SessionApp) -> None:
    await pilot.press("p")
    screen = await wait_for_screen(pilot, ProductsScreen)
    await wait_until(pilot, lambda: len(screen.products) == 3)
    await wait_until(pilot, lambda: data_tables_settled(screen))


async def contact_detail(pilot: Pilot[Any], app: SessionApp) -> None:
    await to_row(pilot, app, "ann.smith@example.org")
    await pilot.press("enter")
    detail = await wait_for_screen(pilot, ContactDetailScreen)
    await wait_until(pilot, lambda: detail.data is not None)
    await pilot.pause()
    await wait_until(pilot, lambda: data_tables_settled(detail))


async def contacts(pilot: Pilot[Any], app: SessionApp) -> None:
    await pilot.press("j")
    await settle(pilot, contacts_screen(app).table)


SCENARIOS: dict[str, Steps] = {
    "contacts": contacts,
    "import_preview": import_preview,
    "import_summary": import_summary,
    "export": export,
    "edit": edit,
    "delete_confirm": delete_confirm,
    "add_membership": add_membership,
    "extend": extend,
    "payment": payment,
    "cancel": cancel,
    "filter_two_groups": filter_two_groups,
    "help": help_screen,
    "products": products,
    "contact_detail": contact_detail,
}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_db: Database) -> Database:
    """The import's fixture file in the working directory; a segment for the panel; the
    data directory under a home of its own (the delete dialog shows it as ~/…)."""
    shutil.copy(FIXTURES / "verdicts.csv", tmp_path / "verdicts.csv")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SESSION_TUI_DATA_DIR", str(tmp_path / ".local/share/session-tui"))
    SegmentsRepository(sqlite_db).save("Coaching VIPs", parse('product:"1:1 Coaching"'))
    return sqlite_db


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_at_80x24(snap_compare: Any, in_tmp: Database, name: str) -> None:
    app, run_before = build(in_tmp, SCENARIOS[name])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
