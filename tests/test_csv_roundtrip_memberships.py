"""Export a database, import the file into an empty one with the same products: the
same contacts, memberships, payment types, starts, expiries, cancellations and
statuses come back. A hypothesis property test on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from session_tui.data.clock import utcnow
from session_tui.data.csvio import import_csv
from session_tui.data.csvio.exporter import export_csv
from session_tui.data.db import Database
from session_tui.data.repositories.memberships import refresh_active_until
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t, event_t, membership_t, product_t

PRODUCTS = ("Course", "1:1 Coaching", 'Retreat; "2024"', "=Club, the")
BASE = datetime(2019, 1, 1)

_moments = st.integers(min_value=0, max_value=12 * 365 * 86_400).map(
    lambda s: BASE + timedelta(seconds=s)
)
_gap = st.integers(min_value=1, max_value=4 * 365 * 86_400).map(lambda s: timedelta(seconds=s))
_membership = st.tuples(
    st.sampled_from(("paid", "free", "comped")),
    _moments,  # started
    st.none() | _gap,  # expires after the start
    st.none() | _gap,  # cancelled after the start
)
_contact = st.tuples(
    st.sampled_from(("", "Ann", "José", "=SUM(A1)", "O'Neill, Jr")),
    st.sampled_from(("", "Lee", "Müller", "-dash", 'say "hi"')),
    _moments,  # created
    st.dictionaries(st.sampled_from(PRODUCTS), _membership, max_size=len(PRODUCTS)),
)


Held = tuple[str, datetime, timedelta | None, timedelta | None]
Person = tuple[str, str, datetime, dict[str, Held]]


def snapshot(db: Database) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    c, m, p = contact_t.c, membership_t.c, product_t.c
    with db.engine.connect() as conn:
        people = set(
            conn.execute(select(c.email, c.first_name, c.last_name, c.created_at, c.active_until))
        )
        members = set(
            conn.execute(
                select(
                    c.email, p.name, m.payment_type, m.started_at, m.expires_at, m.cancelled_at
                ).select_from(membership_t.join(contact_t).join(product_t))
            )
        )
    return {tuple(r) for r in people}, {tuple(r) for r in members}


def wipe_contacts(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(event_t))
        conn.execute(delete(membership_t))
        conn.execute(delete(contact_t))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(_contact, max_size=6))
def test_export_then_import_gives_back_the_same_memberships(
    db: Database, tmp_path: Path, people: list[Person]
) -> None:
    wipe_contacts(db)
    products = ProductsRepository(db)
    ids = {p.name: p.id for p in products.all()}
    for name in PRODUCTS:
        if name not in ids:
            ids[name] = products.add(name).id
    now = utcnow()
    with db.engine.begin() as conn:
        for i, (first, last, created, held) in enumerate(people):
            cid = conn.execute(
                insert(contact_t)
                .values(
                    email=f"p{i}@example.com",
                    first_name=first,
                    last_name=last,
                    created_at=created,
                    updated_at=now,
                )
                .returning(contact_t.c.id)
            ).scalar_one()
            for product, (payment, started, expires, cancelled) in held.items():
                conn.execute(
                    insert(membership_t).values(
                        contact_id=cid,
                        product_id=ids[product],
                        payment_type=payment,
                        started_at=started,
                        expires_at=None if expires is None else started + expires,
                        cancelled_at=None if cancelled is None else started + cancelled,
                    )
                )
        refresh_active_until(conn, None)
    before = snapshot(db)
    path = tmp_path / "export.csv"
    export_csv(db, path)
    wipe_contacts(db)  # an empty database with the same products

    report = import_csv(db, path)
    n_memberships = sum(len(held) for *_, held in people)
    assert (report.added, report.invalid, report.memberships_skipped) == (len(people), 0, 0)
    assert report.memberships_granted == n_memberships and report.products_to_create == ()
    assert snapshot(db) == before
