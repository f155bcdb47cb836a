"""The filter-syntax cheat sheet: one text (session_tui/ui/filter_help.py), shown by `?`
on the Contacts screen and in the filter panel, copied verbatim into docs/."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Select, Static

from session_tui.data.db import Database
from session_tui.data.filters import parse, to_text
from session_tui.data.filters.text import FIELD_ALIASES
from session_tui.ui.filter_help import FILTER_EXAMPLES, FILTER_SYNTAX
from session_tui.ui.screens.help import HelpScreen
from session_tui.ui.widgets.filter_panel import panel_of
from tests.ui.contacts_helpers import Person, contacts_screen, make_test_app, seed, settle
from tests.ui.memberships_helpers import wait_for_screen

REPO = Path(__file__).resolve().parents[2]


def test_every_example_parses_and_is_shown() -> None:
    lines = [line.strip() for line in FILTER_SYNTAX.splitlines()]
    for example in FILTER_EXAMPLES:
        assert any(line.startswith(example) for line in lines), example
        assert to_text(parse(example))  # parses, prints back
    # the seed's cases: product + status, payment type, search, OR of two products,
    # expiring within 30 days
    assert 'product:"1:1 Coaching" and status:active' in FILTER_EXAMPLES
    assert "payment:comped" in FILTER_EXAMPLES
    assert "ann" in FILTER_EXAMPLES
    assert 'product:"1:1 Coaching" or product:"Group Program"' in FILTER_EXAMPLES
    assert "expires:30d" in FILTER_EXAMPLES


def test_names_every_field_keyword_and_operator() -> None:
    for name in FIELD_ALIASES:
        assert f"{name}:" in FILTER_SYNTAX, name
    for word in ("and", "or", "not", "(", '"', "YYYY-MM-DD", "30d", ">=", "<=", "<", ">"):
        assert word in FILTER_SYNTAX, word


def test_fits_the_help_dialog_at_80_columns() -> None:
    assert max(len(line) for line in FILTER_SYNTAX.splitlines()) <= 68


def test_docs_copy_is_verbatim() -> None:
    doc = (REPO / "docs" / "filter-syntax.md").read_text(encoding="utf-8")
    block = re.search(r"```text\n(.*?)\n```", doc, re.S)
    assert block and block.group(1) == FILTER_SYNTAX


def _help_text(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, HelpScreen)
    return str(screen.query_one("#help-keys", Static).render())


async def test_help_of_contacts_and_of_the_filter_panel_shows_the_cheat_sheet(
    sqlite_db: Database,
) -> None:
    seed(sqlite_db, [Person("ann@example.org", "Ann", "Smith", products={"Course": True})])
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)
        await pilot.press("question_mark")
        await wait_for_screen(pilot, HelpScreen)
        text = _help_text(app)
        assert "Filter syntax" in text and 'product:"1:1 Coaching" and status:active' in text
        assert text.index("Filter syntax") > text.index("Select")  # after the keys
        await pilot.press("escape")

        await pilot.press("f")
        await pilot.pause()
        panel = panel_of(screen)
        assert panel is not None
        panel.query_one("#root-mode", Select).focus()
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for_screen(pilot, HelpScreen)
        text = _help_text(app)
        assert text.startswith("Filter syntax")  # in the panel: the cheat sheet first
        assert text.count("Filter syntax") == 1
        assert "expires:30d" in text
