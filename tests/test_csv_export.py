"""CSV export on SQLite and PostgreSQL: columns, status/products, formula escaping,
filter/selection, cancel, and the export -> import round trip (hypothesis)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from session_tui.data.clock import utcnow
from session_tui.data.csvio import import_csv
from session_tui.data.csvio.exporter import (
    EXPORT_COLUMNS,
    ExportCancelled,
    ExportError,
    default_export_name,
    export_csv,
)
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t
from session_tui.data.validation import email_problem, normalize_name


def exported(db: Database, **kwargs: object) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    export_csv(db, out, **kwargs)  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


def add(
    db: Database, email: str, first: str = "", last: str = "", created: datetime | None = None
) -> int:
    now = created or utcnow()
    with db.engine.begin() as conn:
        return int(
            conn.execute(
                insert(contact_t).values(
                    email=email,
                    first_name=first,
                    last_name=last,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
        )


def test_columns_status_products_and_dates(db: Database) -> None:
    products = ProductsRepository(db)
    products.add("Course")
    products.add("1:1 Coaching")
    members = MembershipsRepository(db)
    past = utcnow() - timedelta(days=3)
    members.grant("ann@example.com", "Course", "paid", first_name="Ann", last_name="Lee")
    members.grant("ann@example.com", "1:1 Coaching", "comped")
    members.grant(
        "old@example.com", "Course", "free", expires_at=past, started_at=past - timedelta(days=30)
    )
    add(db, "none@example.com", "No", "Body", created=datetime(2024, 2, 29, 23, 59, 58))
    rows = exported(db)
    assert list(rows[0].keys()) == list(EXPORT_COLUMNS)
    by_email = {r["email"]: r for r in rows}
    ann = by_email["ann@example.com"]
    assert (ann["first_name"], ann["last_name"], ann["status"]) == ("Ann", "Lee", "active")
    pairs = dict(zip(ann["products"].split("; "), ann["payment_types"].split("; "), strict=True))
    assert pairs == {"Course": "paid", "1:1 Coaching": "comped"}
    assert by_email["old@example.com"]["status"] == "expired"
    none = by_email["none@example.com"]
    assert (none["status"], none["products"], none["payment_types"]) == ("none", "", "")
    assert none["created_at"] == "2024-02-29T23:59:58Z"
    assert [r["email"] for r in rows] == [
        "ann@example.com",
        "old@example.com",
        "none@example.com",
    ]  # creation order


def test_formula_cells_are_escaped(db: Database) -> None:
    ProductsRepository(db).add('=HYPERLINK("x")')
    MembershipsRepository(db).grant(
        "-lee@example.com", '=HYPERLINK("x")', "paid", first_name="=1+1", last_name="@SUM(A1)"
    )
    add(db, "ok@example.com", "'=quoted", "+49 170")
    add(db, "'x@example.com", "'plain", "it's")
    out = io.StringIO(newline="")
    export_csv(db, out)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1:]
    assert rows[0][:3] == ["'-lee@example.com", "'=1+1", "'@SUM(A1)"]
    assert rows[0][4] == '\'=HYPERLINK("x")'
    assert rows[1][:3] == ["ok@example.com", "''=quoted", "'+49 170"]
    assert rows[2][:3] == ["'x@example.com", "'plain", "it's"]  # no formula: left alone
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r"


def test_filter_and_selection(db: Database) -> None:
    a = add(db, "ann@example.com", "Ann", "Lee")
    b = add(db, "bob@example.com", "Bob", "Stone")
    add(db, "cat@example.com", "Cat", "Lee")
    assert [r["email"] for r in exported(db, query=ContactQuery(search="lee"))] == [
        "ann@example.com",
        "cat@example.com",
    ]
    assert [r["email"] for r in exported(db, ids=[b, a, b])] == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert exported(db, ids=[]) == []


def test_file_target_progress_cancel_and_errors(db: Database, tmp_path: Path) -> None:
    for i in range(12):
        add(db, f"p{i}@example.com")
    target = tmp_path / "out.csv"
    seen = []
    assert export_csv(db, target, progress=seen.append) == 12
    assert seen[-1].done == 12 and seen[-1].total == 12
    assert target.read_text(encoding="utf-8").startswith("email,first_name,")
    original = target.read_bytes()
    import session_tui.data.csvio.exporter as exporter

    small = exporter._YIELD
    exporter._YIELD = 5
    try:
        with pytest.raises(ExportCancelled):
            export_csv(db, target, cancel=lambda: True)
    finally:
        exporter._YIELD = small
    assert target.read_bytes() == original  # untouched
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(ExportError, match="directory"):
        export_csv(db, tmp_path)
    with pytest.raises(ExportError, match="cannot write"):
        export_csv(db, tmp_path / "missing-dir" / "x.csv")


def test_stdout_target(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    add(db, "s@example.com", "S")
    export_csv(db, "-")
    assert capsys.readouterr().out.splitlines()[1].startswith("s@example.com,S,,none")


def test_default_name() -> None:
    from datetime import date

    assert default_export_name(date(2026, 3, 4)) == "contacts-2026-03-04.csv"


# -- the round trip -----------------------------------------------------------------

_local = st.text(alphabet="abcxyz019=+-'@_.é", min_size=1, max_size=12)
_emails = st.builds(
    lambda local, dom: f"{local}@{dom}",
    _local,
    st.sampled_from(["example.com", "mail.co.uk", "bücher.de"]),
).filter(lambda e: email_problem(e) is None)
_names = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "=1+1",
            "+49",
            "-x",
            "@cmd",
            "'=x",
            "''",
            "'",
            "\tTab",
            "\rCR",
            "a,b",
            'say "hi"',
            "[bold]x",
            "Zoë",
            "李",
            "x\ny",
        ]
    ),
).map(lambda s: normalize_name(s[:200]))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(st.tuples(_emails, _names, _names), max_size=8, unique_by=lambda p: p[0]))
def test_export_then_import_is_lossless(
    db: Database, tmp_path: Path, people: list[tuple[str, str, str]]
) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(contact_t))
    for i, (email, first, last) in enumerate(people):
        add(db, email, first, last, created=datetime(2020, 1, 1) + timedelta(days=i, seconds=i))
    c = contact_t.c
    cols = select(c.email, c.first_name, c.last_name, c.created_at).order_by(c.email)
    with db.engine.connect() as conn:
        before = conn.execute(cols).all()
    path = tmp_path / "roundtrip.csv"
    export_csv(db, path)
    with db.engine.begin() as conn:  # an empty database
        conn.execute(delete(contact_t))
    report = import_csv(db, path)
    assert report.summary() == {"added": len(people), "skipped": 0, "duplicates": 0, "invalid": 0}
    with db.engine.connect() as conn:
        assert conn.execute(cols).all() == before
