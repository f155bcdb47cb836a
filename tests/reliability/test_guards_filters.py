"""Issue 13, item 16: a field comparison without its colon (`joined>2030-01-01`) is
not silently a text search that matches nothing: the filter's error line says
"did you mean `joined:>2030-01-01`?" -- in the parser, the panel and the CLI.
"""

from __future__ import annotations

import pytest
from textual.widgets import Static

from session_tui.cli import main
from session_tui.data.db import Database
from session_tui.data.filters import parse, to_text
from session_tui.data.filters.text import FilterSyntaxError
from tests.ui.contacts_helpers import Person, contacts_screen, make_test_app, seed, wait_until
from tests.ui.test_filter_panel import open_panel, shown_count, type_text


@pytest.mark.parametrize(
    ("text", "meant", "column"),
    [
        ("joined>2030-01-01", "joined:>2030-01-01", 1),
        ("JOINED>=2026-01-01", "joined:>=2026-01-01", 1),
        ("joined=<2026-01-01", "joined:<=2026-01-01", 1),
        ("joined=2026-01-01", "joined:2026-01-01", 1),
        ("search:ann status=active", "status:active", 12),
        ("domain==gmail.com", "domain:gmail.com", 1),
        ("product!=Course", "not product:Course", 1),
        ("(payment=paid or status:active)", "payment:paid", 2),
        ("expires<30d", "expires:30d", 1),
    ],
)
def test_comparison_without_colon_suggests_the_filter(text: str, meant: str, column: int) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    assert caught.value.column == column
    assert caught.value.message.startswith(f"did you mean `{meant}`?")
    # the suggestion itself is a valid filter (or, for `not`, says why not)
    if not meant.startswith("not ") or "product" in meant:
        parse(meant)


@pytest.mark.parametrize(
    "text", ['"joined>2030-01-01"', "a=b@example.org", "joined>", "name>3", "ann", "x<y"]
)
def test_other_words_are_still_searches(text: str) -> None:
    group = parse(text)
    assert to_text(group).startswith("search:")
    assert parse(to_text(group)) == group


def test_cli_prints_the_suggestion(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "-", "--filter", "joined>2030-01-01", "--db", db.url])
    err = capsys.readouterr().err
    assert code != 0
    assert "column 1: did you mean `joined:>2030-01-01`?" in err
    assert err.count("\n") == 1


async def test_panel_shows_the_suggestion_and_keeps_the_last_filter(
    sqlite_db: Database,
) -> None:
    seed(
        sqlite_db,
        [
            Person("ann@x.org", "Ann", "Lee", products={"Course": True}),
            Person("bob@x.org", "Bob", "Ray"),
        ],
    )
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_panel(pilot, app)
        await type_text(pilot, "joined>2030-01-01")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(panel.text_error))
        error = str(panel.query_one("#filter-error", Static).render())
        assert "did you mean `joined:>2030-01-01`?" in error, error
        await shown_count(pilot, app, 2)  # not a search that matches nothing
        assert contacts_screen(app).table.count == 2
