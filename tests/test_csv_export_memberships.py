"""The export's memberships column (read back by membership_cells into the same
memberships) and the CSV lines the database builds: byte for byte what the csv
module writes of the same cells. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, true

from session_tui.data.clock import utcnow
from session_tui.data.csvio.exporter import EXPORT_COLUMNS, export_csv, export_statement
from session_tui.data.csvio.mapping import auto_mapping
from session_tui.data.csvio.membership_cells import Invalid, MembershipCells
from session_tui.data.db import Database
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import PaymentType, Status, contact_t, membership_t, product_t
from session_tui.data.validation import normalize_name


def export_text(db: Database) -> str:
    out = io.StringIO(newline="")
    export_csv(db, out)
    return out.getvalue()


def second(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(microsecond=0)


def test_memberships_column_reads_back_as_the_same_memberships(db: Database) -> None:
    products = ProductsRepository(db)
    for name in ("Course", '=Retreat; "2024"', "1:1 Coaching"):
        products.add(name)
    members = MembershipsRepository(db)
    now = utcnow()
    members.grant("ann@example.com", "Course", "paid", first_name="Ann")
    members.grant(
        "ann@example.com",
        '=Retreat; "2024"',
        "comped",
        started_at=now - timedelta(days=400),
        expires_at=now - timedelta(days=30),
    )
    later = members.grant(
        "bob@example.com", "1:1 Coaching", "free", expires_at=now + timedelta(days=90)
    )
    members.cancel(later.membership.id)
    members.grant("cy@example.com", "Course", "paid", expires_at=now + timedelta(days=5))
    text = export_text(db)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, data = rows[0], rows[1:]
    assert tuple(header) == EXPORT_COLUMNS and header[-1] == "memberships"
    cells = MembershipCells(auto_mapping(header))
    exported = {}
    for row in data:
        specs = cells.parse(row)
        assert not isinstance(specs, Invalid), specs
        exported[row[0]] = sorted(
            (s.product or "", s.payment_type, s.started, s.expires, s.cancelled, s.status)
            for s in specs
        )
    stored: dict[str, list[tuple[object, ...]]] = {}
    for m in members.all():
        status = Status.ACTIVE if m.status == "active" else Status.EXPIRED
        stored.setdefault(m.email, []).append(
            (
                m.product,
                PaymentType(m.payment_type),
                second(m.started_at),
                second(m.expires_at),
                second(m.cancelled_at),
                status,
            )
        )
    assert exported == {email: sorted(items) for email, items in stored.items()}
    assert exported["bob@example.com"][0][4] is not None  # cancelled, and says when
    assert exported["bob@example.com"][0][5] is Status.EXPIRED


def test_a_contact_without_memberships_has_an_empty_cell(db: Database) -> None:
    MembershipsRepository(db)  # no memberships at all
    ProductsRepository(db).add("Course")
    MembershipsRepository(db).grant("a@example.com", "Course", "paid")
    with db.engine.begin() as conn:
        conn.execute(delete(membership_t))
    rows = list(csv.reader(io.StringIO(export_text(db), newline="")))
    assert rows[1][4:6] == ["", ""] and rows[1][7] == ""


_texts = st.one_of(
    st.text(alphabet="ab ,;\"'=+-@\t\r\né[]{}\\", max_size=12),
    st.sampled_from(['"', ",", '""', "'=x", "=1,2", 'a"b', "\r\n", "[1]"]),
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(st.tuples(_texts, _texts, _texts), max_size=5),
    product_names=st.lists(_texts, max_size=3),
)
def test_database_built_lines_are_what_the_csv_module_writes(
    db: Database, people: list[tuple[str, str, str]], product_names: list[str]
) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(membership_t))
        conn.execute(delete(contact_t))
        conn.execute(delete(product_t))
    names: list[str] = []
    for raw in product_names:
        name = normalize_name(raw) or "p"
        if name.casefold() not in {n.casefold() for n in names}:
            ProductsRepository(db).add(name)
            names.append(name)
    members = MembershipsRepository(db)
    for i, (local, first, last) in enumerate(people):
        email = f"{i}x{abs(hash(local)) % 1000}@example.com"
        if names:
            members.grant(email, names[i % len(names)], "paid", first_name=first[:200])
        else:
            with db.engine.begin() as conn:
                now = datetime(2020, 1, 1)
                conn.execute(
                    contact_t.insert().values(
                        email=email,
                        first_name=first,
                        last_name=last,
                        created_at=now,
                        updated_at=now,
                    )
                )
    with db.engine.connect() as conn:
        cells = conn.execute(export_statement(db, true())).all()
    expected = io.StringIO(newline="")
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(cells)
    assert export_text(db) == expected.getvalue()
