"""Issue 13, item 2: calendar-edge dates.

Dates outside 1900-01-01 … 9998-12-31 are refused at every entry point (import,
CLI, dialogs); whatever is stored anyway (an older version's import, a hand-made
database) is displayed without raising, in every time zone: the table, the
contact detail, the Memberships screen, the export and the CLI.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from textual.widgets import DataTable

from session_tui.cli import main
from session_tui.cli.moments import fmt_moment
from session_tui.data.csvio import import_csv
from session_tui.data.csvio.exporter import export_csv
from session_tui.data.csvio.importer import Verdict
from session_tui.data.db import Database
from session_tui.data.tables import contact_t, event_t, membership_t
from session_tui.data.validation import ValidationError
from session_tui.ui.modals.membership_actions import parse_expiry
from session_tui.ui.moments import day, local_day, local_time
from session_tui.ui.screens.contact_detail import ContactDetailScreen
from session_tui.ui.widgets.contacts.table import joined_text
from tests.ui.contacts_helpers import Person, contacts_screen, seed, settle, wait_until
from tests.ui.memberships_helpers import make_frozen_app, open_memberships, wait_for_screen

ZONES = ["America/New_York", "Asia/Tokyo", "Pacific/Kiritimati"]
# Year 1 overflows west of UTC; the last second of 9999 overflows east of it.
FIRST = datetime(1, 1, 1, 0, 0, 0)
LAST = datetime(9999, 12, 31, 23, 59, 59)


@pytest.fixture(params=ZONES)
def zone(request: pytest.FixtureRequest) -> Iterator[str]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield str(request.param)
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


# -- display: total ---------------------------------------------------------------------
@pytest.mark.parametrize("moment", [FIRST, LAST])
def test_every_date_display_is_total(zone: str, moment: datetime) -> None:
    stored_day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    assert joined_text(moment) == stored_day
    assert local_day(moment) == stored_day
    assert local_time(moment).startswith(stored_day)
    assert day(moment) == stored_day
    assert fmt_moment(moment).startswith(stored_day)


def test_display_within_range_is_still_local(zone: str) -> None:
    # 2026-03-01 00:30 UTC is 2026-02-28 in New York, 2026-03-01 in Tokyo.
    moment = datetime(2026, 3, 1, 0, 30)
    expected = "2026-02-28" if zone == "America/New_York" else "2026-03-01"
    assert joined_text(moment) == expected


def _seed_edges(db: Database) -> None:
    """Contacts and a membership with edge dates, written as an older version did."""
    seed(
        db,
        [
            Person("first@example.org", "Ada", "First", joined=FIRST, products={"Course": False}),
            Person("last@example.org", "Zed", "Last", joined=LAST),
        ],
    )
    with db.engine.begin() as conn:
        mid = conn.execute(select(membership_t.c.id)).scalar_one()
        conn.execute(
            insert(event_t).values(
                membership_id=mid, at=FIRST, kind="granted", detail="paid", actor="import"
            )
        )


async def test_table_detail_and_memberships_show_edge_dates(db: Database, zone: str) -> None:
    _seed_edges(db)
    app = make_frozen_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)
        rows = [screen.table.row_at(i) for i in range(screen.table.count or 0)]
        texts = [screen.table.render_line(y).text for y in range(screen.table.size.height)]
        assert any("0001-01-01" in t for t in texts), texts
        assert any("9999-12-31" in t for t in texts), texts
        index = next(i for i, r in enumerate(rows) if r is not None and r.email.startswith("f"))
        screen.table.move_cursor(index)
        await settle(pilot, screen.table)
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, ContactDetailScreen)
        await wait_until(pilot, lambda: detail.data is not None)
        await pilot.pause()
        memberships = detail.query_one("#detail-memberships", DataTable)
        cells = [str(c) for c in memberships.get_row_at(0)]
        assert any(c.startswith("0001-01-01") for c in cells), cells
        history = detail.query_one("#detail-history", DataTable)
        moments = [str(history.get_row_at(i)[0]) for i in range(history.row_count)]
        assert any(m.startswith("0001-01-01 ") for m in moments), moments
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        ms = await open_memberships(pilot)
        lines = [ms.table.render_line(y).text for y in range(ms.table.size.height)]
        assert any("0001-01-01" in t for t in lines), lines
        assert app.is_running


def test_export_and_cli_show_edge_dates(
    db: Database, zone: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_edges(db)
    out = io.StringIO(newline="")
    export_csv(db, out)
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(out.getvalue(), newline=""))}
    assert rows["first@example.org"]["created_at"] == "0001-01-01T00:00:00Z"
    assert rows["last@example.org"]["created_at"] == "9999-12-31T23:59:59Z"
    code = main(["memberships", "list", "--db", db.url])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "0001-01-01" in text
    code = main(["memberships", "list", "--db", db.url, "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(text)[0]["started_at"] == "0001-01-01T00:00:00"


# -- entry points: refused --------------------------------------------------------------
def test_import_refuses_dates_outside_the_range(db: Database, tmp_path: Path) -> None:
    source = tmp_path / "edges.csv"
    source.write_text(
        "email,first_name,created_at\n"
        "ok@example.org,Ok,1900-01-01\n"
        "min@example.org,Min,0001-01-01\n"
        "max@example.org,Max,9999-12-31 23:59:59\n"
        "zulu@example.org,Zulu,9999-12-31T23:59:59Z\n"
        "late@example.org,Late,9998-12-31T23:59:59Z\n",
        encoding="utf-8",
    )
    report = import_csv(db, source)
    assert report.summary() == {"added": 2, "skipped": 0, "duplicates": 0, "invalid": 3}
    reasons = {r.line: r.reason for r in report.rows if r.verdict is Verdict.INVALID}
    assert set(reasons) == {3, 4, 5}
    assert reasons[3] == (
        "created_at 0001-01-01 is outside the supported dates (1900-01-01 to 9998-12-31)"
    )
    assert "9999-12-31 is outside the supported dates" in reasons[4]
    with db.engine.connect() as conn:
        years = sorted(r.year for r in conn.execute(select(contact_t.c.created_at)).scalars())
    assert years == [1900, 9998]


@pytest.mark.parametrize(
    "argv",
    [
        [
            "memberships",
            "add",
            "a@example.org",
            "Course",
            "--payment",
            "paid",
            "--started",
            "0001-01-01",
        ],
        [
            "memberships",
            "add",
            "a@example.org",
            "Course",
            "--payment",
            "paid",
            "--expires",
            "9999-12-31",
        ],
        ["memberships", "extend", "b@example.org", "Course", "--expires", "1899-12-31"],
    ],
)
def test_cli_refuses_dates_outside_the_range(
    db: Database, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["products", "add", "Course", "--db", db.url]) == 0
    assert (
        main(["memberships", "add", "b@example.org", "Course", "--payment", "paid", "--db", db.url])
        == 0
    )
    with db.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(membership_t)).scalar_one()
        expires = conn.execute(select(membership_t.c.expires_at)).scalar_one()
    capsys.readouterr()
    code = main([*argv, "--db", db.url])
    _, err = capsys.readouterr()
    assert code == 1
    assert "is outside the supported dates (1900-01-01 to 9998-12-31)" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(membership_t)).scalar_one() == before
        assert conn.execute(select(membership_t.c.expires_at)).scalar_one() == expires


def test_dialog_expiry_box_refuses_dates_outside_the_range() -> None:
    # The add-membership and extend dialogs both read their date box with parse_expiry.
    for text in ("0001-01-01", "9999-12-31", "1899-12-31"):
        with pytest.raises(ValidationError) as caught:
            parse_expiry(text)
        assert caught.value.field == "expires_at"
        assert "outside the supported dates" in caught.value.message
    assert parse_expiry("9998-12-31") == (True, datetime(9998, 12, 31))
    assert parse_expiry("never") == (True, None)
