"""Filters compiled to SQL: every spec example on SQLite and PostgreSQL, and an oracle.

The oracle test (hypothesis) builds random small data sets and random filters and
checks that the ids the SQL selects equal a plain Python evaluation of the same
filter (tests/filter_oracle.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, insert, select, text
from sqlalchemy.engine import make_url

from session_tui.data.clock import FAR_FUTURE, utcnow
from session_tui.data.db import Database, open_database
from session_tui.data.filters import Condition, FieldName, Group, Mode, Op, parse
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.tables import contact_t, membership_t, product_t
from tests.conftest import PG_ENV, PG_SKIP_REASON, _as_psycopg
from tests.filter_oracle import C, M, matches

NOW = datetime(2026, 3, 1, 12, 0, 0)
PRODUCTS = ["1:1 Coaching", "Course", "Community"]


def load(db: Database, people: list[C]) -> dict[int, C]:
    """Replace everything in the database with `people`; returns id -> person."""
    out: dict[int, C] = {}
    with db.engine.begin() as conn:
        conn.execute(delete(membership_t))
        conn.execute(delete(contact_t))
        conn.execute(delete(product_t))
        pids = {}
        for name in PRODUCTS:
            pids[name] = conn.execute(
                insert(product_t)
                .values(name=name, archived=False, created_at=NOW)
                .returning(product_t.c.id)
            ).scalar_one()
        for p in people:
            ends = [m.cancelled_at or m.expires_at or FAR_FUTURE for m in p.memberships]
            cid = conn.execute(
                insert(contact_t)
                .values(
                    email=p.email,
                    first_name=p.first,
                    last_name=p.last,
                    created_at=p.created_at,
                    updated_at=p.created_at,
                    version=1,
                    active_until=max(ends) if ends else None,
                )
                .returning(contact_t.c.id)
            ).scalar_one()
            out[cid] = p
            for m in p.memberships:
                conn.execute(
                    insert(membership_t).values(
                        contact_id=cid,
                        product_id=pids[m.product],
                        payment_type=m.payment,
                        started_at=NOW - timedelta(days=400),
                        expires_at=m.expires_at,
                        cancelled_at=m.cancelled_at,
                    )
                )
    return out


def selected(db: Database, flt: Group, now: datetime = NOW, walk: bool = False) -> set[int]:
    stmt = select(contact_t.c.id).where(flt.where(db.dialect, now, walk_order_index=walk))
    with db.engine.connect() as conn:
        return set(conn.execute(stmt).scalars())


# -- the spec's examples -----------------------------------------------------------------
D = timedelta(days=1)
PAST, SOON, LATER = NOW - 10 * D, NOW + 10 * D, NOW + 60 * D
CANCELLED = NOW - 2 * D

SPEC_PEOPLE = [
    C("ann@gmail.com", "Ann", "Smith", datetime(2025, 12, 31, 23, 0), [M("1:1 Coaching", "paid")]),
    # expired Coaching + an active paid Course: NOT "an active paid Coaching membership"
    C(
        "bob@gmail.com",
        "Bob",
        "Jones",
        datetime(2026, 1, 1, 0, 0),
        [M("1:1 Coaching", "paid", expires_at=PAST), M("Course", "paid")],
    ),
    C("cat@example.com", "Cat", "Lee", datetime(2026, 2, 1), [M("1:1 Coaching", "comped")]),
    C(
        "dan@example.com",
        "Dan",
        "Brown",
        datetime(2026, 5, 31, 23, 59),
        [M("1:1 Coaching", "comped", expires_at=PAST)],
    ),
    # cancelled (expiry ahead does not count)
    C(
        "eve@example.com",
        "Eve",
        "Adams",
        datetime(2026, 6, 1),
        [M("1:1 Coaching", "free", expires_at=SOON, cancelled_at=CANCELLED)],
    ),
    C("fay@gmail.com", "Fay", "Wong", datetime(2026, 6, 2)),
    C("gus@x.org", "Gus", "Hill", datetime(2025, 1, 1), [M("Course", "free", expires_at=PAST)]),
    C(
        "hal@x.org",
        "Hal",
        "Ray",
        datetime(2025, 6, 1),
        [M("Course", "free", expires_at=SOON), M("1:1 Coaching", "paid", expires_at=PAST)],
    ),
    C(
        "ian@example.com",
        "Joanna",
        "Ianson",
        datetime(2025, 7, 1),
        [M("Course", "paid", expires_at=LATER)],
    ),
]

SPEC_CASES = [
    # within one AND group: the same membership
    ('product:"1:1 Coaching" and status:active and payment:paid', {"Ann"}),
    ('product:"1:1 Coaching" status:active payment:paid', {"Ann"}),
    # status alone = the contact's status
    ("status:active", {"Ann", "Bob", "Cat", "Hal", "Joanna"}),
    ("status:expired", {"Dan", "Eve", "Gus"}),
    ("status:none", {"Fay"}),
    ("status:all", {p.first for p in SPEC_PEOPLE}),
    # with a product: that product's membership
    ('product:"1:1 Coaching" status:expired', {"Bob", "Dan", "Eve", "Hal"}),
    ('product:"1:1 Coaching" status:active', {"Ann", "Cat"}),
    ('product:"1:1 Coaching" status:none', {"Fay", "Gus", "Joanna"}),
    # a nested OR of status/payment: alternatives for that same membership
    ('product:"1:1 Coaching" and (status:active or payment:comped)', {"Ann", "Cat", "Dan"}),
    ('PRODUCT:"1:1 coaching" AND (Status:Active OR Payment:Comped)', {"Ann", "Cat", "Dan"}),
    # product is not X = no membership of X at all
    ("not product:Course", {"Ann", "Cat", "Dan", "Eve", "Fay"}),
    ("not product:Nothing", {p.first for p in SPEC_PEOPLE}),
    ("product:Nothing", set()),
    # in an OR group each condition stands alone
    ("status:expired or payment:comped", {"Cat", "Dan", "Eve", "Gus"}),
    ("product:Course or status:none", {"Bob", "Fay", "Gus", "Hal", "Joanna"}),
    (
        '(product:"1:1 Coaching" and status:active) or (product:Course and payment:free)',
        {"Ann", "Cat", "Gus", "Hal"},
    ),
    # payment without a product: one membership with that payment (and status)
    ("payment:comped", {"Cat", "Dan"}),
    ("status:expired payment:paid", {"Bob", "Hal"}),
    ("status:active payment:free", {"Hal"}),
    # a nested OR group with other conditions: each stands alone
    # (Hal's own status is active: his Course is)
    (
        'product:"1:1 Coaching" and (status:expired or domain:gmail.com)',
        {"Ann", "Bob", "Dan", "Eve"},
    ),
    # search, domain, joined, expires
    ("search:ann domain:gmail.com", {"Ann"}),
    ("search:ann", {"Ann", "Joanna"}),
    ('search:"ann smith"', {"Ann"}),
    ("not search:ann", {p.first for p in SPEC_PEOPLE} - {"Ann", "Joanna"}),
    ("domain:gmail.com", {"Ann", "Bob", "Fay"}),
    ("not domain:gmail.com", {"Cat", "Dan", "Eve", "Gus", "Hal", "Joanna"}),
    ("domain:@X.ORG", {"Gus", "Hal"}),
    ("joined:>=2026-01-01", {"Bob", "Cat", "Dan", "Eve", "Fay"}),
    ("joined:<2026-06-01", {"Ann", "Bob", "Cat", "Dan", "Gus", "Hal", "Joanna"}),
    ("joined:<=2026-05-31", {"Ann", "Bob", "Cat", "Dan", "Gus", "Hal", "Joanna"}),
    ("joined:>2025-12-31", {"Bob", "Cat", "Dan", "Eve", "Fay"}),
    ("joined:2025-12-31", {"Ann"}),
    ("expires:30d", {"Hal"}),
    ("expires:90d", {"Hal", "Joanna"}),
    ("expires:0d", set()),
    ("", {p.first for p in SPEC_PEOPLE}),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def spec_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, dict[int, C]]]:
    """One database per backend for all the examples (they only read)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('spec') / 'spec.db'}"
        db = open_database(url)
        try:
            yield db, load(db, SPEC_PEOPLE)
        finally:
            db.dispose()
        return
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(PG_SKIP_REASON)
    name = f"st_test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(_as_psycopg(admin), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = open_database(
        make_url(_as_psycopg(admin)).set(database=name).render_as_string(hide_password=False)
    )
    try:
        yield db, load(db, SPEC_PEOPLE)
    finally:
        db.dispose()
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.mark.parametrize(("text", "expected"), SPEC_CASES)
def test_spec_examples(
    spec_db: tuple[Database, dict[int, C]], text: str, expected: set[str]
) -> None:
    db, people = spec_db
    flt = parse(text)
    got = {people[i].first for i in selected(db, flt)}
    assert got == expected
    # the form a page query uses to walk its sort index selects the same contacts
    assert {people[i].first for i in selected(db, flt, walk=True)} == expected
    # the oracle agrees with the documented expectation
    assert {p.first for p in SPEC_PEOPLE if matches(flt, p, NOW)} == expected


def test_expired_alone_means_every_membership_expired(db: Database) -> None:
    """`status is expired` alone: all memberships expired -- one active one is enough
    to be excluded, whatever product."""
    people = load(
        db,
        [
            C("a@x.org", "A", "A", NOW, [M("Course", "paid", expires_at=PAST)]),
            C(
                "b@x.org",
                "B",
                "B",
                NOW,
                [M("Course", "paid", expires_at=PAST), M("Community", "free")],
            ),
        ],
    )
    assert {people[i].first for i in selected(db, parse("status:expired"))} == {"A"}


def test_boundaries(db: Database) -> None:
    """Expiring exactly now = expired; exactly now + N days = within N days; a joined
    date is a whole UTC day."""
    people = load(
        db,
        [
            C("a@x.org", "A", "A", datetime(2026, 1, 1, 0, 0), [M("Course", "paid", NOW)]),
            C(
                "b@x.org",
                "B",
                "B",
                datetime(2025, 12, 31, 23, 59, 59),
                [M("Course", "paid", NOW + 30 * D)],
            ),
            C(
                "c@x.org",
                "C",
                "C",
                datetime(2026, 1, 2),
                [M("Course", "paid", NOW + 30 * D, cancelled_at=NOW - D)],
            ),
        ],
    )

    def names(text: str) -> set[str]:
        return {people[i].first for i in selected(db, parse(text))}

    assert names("status:expired") == {"A", "C"}
    assert names("product:Course status:active") == {"B"}
    assert names("expires:30d") == {"B"}
    assert names("expires:29d") == set()
    assert names("joined:2026-01-01") == {"A"}
    assert names("joined:<2026-01-01") == {"B"}
    assert names("joined:>2026-01-01") == {"C"}


def test_filter_and_search_box_through_the_repository(db: Database) -> None:
    """The filter is a ContactQuery.filter: count/page/ids use it, with the search box."""
    now = utcnow()
    load(
        db,
        [
            C("ann@gmail.com", "Ann", "Smith", now, [M("Course", "paid")]),
            C("anna@gmail.com", "Anna", "Bell", now, [M("Course", "paid", expires_at=now - D)]),
            C("zed@gmail.com", "Zed", "Ann", now),
        ],
    )
    repo = ContactsRepository(db)
    q = ContactQuery(search="ann", filter=parse("product:Course status:active search:smith"))
    assert repo.count(q) == 1
    assert [r.email for r in repo.page(q, 0, 10)] == ["ann@gmail.com"]
    q2 = ContactQuery(search="ann", filter=parse("search:bell or status:none"))
    assert {r.email for r in repo.page(q2, 0, 10)} == {"anna@gmail.com", "zed@gmail.com"}
    assert len(repo.ids(q2)) == 2


def test_product_names_are_matched_ignoring_case_and_quotes_are_data(db: Database) -> None:
    load(db, [C("a@x.org", "A", "A", NOW, [M("1:1 Coaching", "paid")])])
    with db.engine.begin() as conn:
        conn.execute(
            insert(product_t).values(name='Rob\'s "VIP" 100%', archived=False, created_at=NOW)
        )
    assert len(selected(db, parse('product:"1:1 COACHING"'))) == 1
    assert selected(db, parse(r'product:"Rob\'s \"VIP\" 100%"')) == set()
    assert selected(db, parse("product:%")) == set()


# -- the oracle --------------------------------------------------------------------------
NAMES = [
    ("ann", "smith"),
    ("joanna", "brown"),
    ("bob", "annett"),
    ("li", "wang"),
    ("anne-marie", "o'neil"),
    ("zoe", "ng"),
]
DOMAINS = ["gmail.com", "example.com", "x.org"]
# NOW itself: a membership expiring exactly now is expired; NOW + 30 days is "within 30d"
EXPIRIES = [None, NOW - 30 * D, NOW - D, NOW, NOW + D, NOW + 20 * D, NOW + 30 * D, NOW + 45 * D]
JOINED = [
    datetime(2025, 12, 31, 23, 59),
    datetime(2026, 1, 1),
    datetime(2026, 1, 1, 8),
    datetime(2026, 2, 15, 12),
]


@st.composite
def memberships(draw: st.DrawFn) -> list[M]:
    products = draw(st.lists(st.sampled_from(PRODUCTS), max_size=3, unique=True))
    return [
        M(
            p,
            draw(st.sampled_from(["paid", "free", "comped"])),
            draw(st.sampled_from(EXPIRIES)),
            draw(st.sampled_from([None, None, NOW - 3 * D])),
        )
        for p in products
    ]


@st.composite
def people(draw: st.DrawFn) -> list[C]:
    n = draw(st.integers(0, 7))
    out = []
    for i in range(n):
        first, last = draw(st.sampled_from(NAMES))
        out.append(
            C(
                f"{first[:3]}{i}@{draw(st.sampled_from(DOMAINS))}",
                first.title(),
                last.title(),
                draw(st.sampled_from(JOINED)),
                draw(memberships()),
            )
        )
    return out


PRODUCT_C = st.builds(
    Condition,
    st.just(FieldName.PRODUCT),
    st.sampled_from([Op.IS, Op.IS_NOT]),
    st.sampled_from([*PRODUCTS, "course", "Missing"]),
)
STATUS_C = st.builds(
    Condition,
    st.just(FieldName.STATUS),
    st.just(Op.IS),
    st.sampled_from(["active", "expired", "none", "all"]),
)
PAYMENT_C = st.builds(
    Condition,
    st.just(FieldName.PAYMENT),
    st.just(Op.IS),
    st.sampled_from(["paid", "free", "comped"]),
)
SEARCH_C = st.builds(
    Condition,
    st.just(FieldName.SEARCH),
    st.sampled_from([Op.CONTAINS, Op.NOT_CONTAINS]),
    st.sampled_from(["ann", "an", "ANNE", "o'n", "ann smith", "x.org", "zz"]),
)
JOINED_C = st.builds(
    Condition,
    st.just(FieldName.JOINED),
    st.sampled_from([Op.BEFORE, Op.ON_OR_BEFORE, Op.ON, Op.ON_OR_AFTER, Op.AFTER]),
    st.sampled_from(["2025-12-31", "2026-01-01", "2026-02-15"]),
)
EXPIRES_C = st.builds(
    Condition, st.just(FieldName.EXPIRES), st.just(Op.WITHIN), st.sampled_from(["0", "1", "30"])
)
DOMAIN_C = st.builds(
    Condition,
    st.just(FieldName.DOMAIN),
    st.sampled_from([Op.IS, Op.IS_NOT]),
    st.sampled_from(DOMAINS),
)


def conditions() -> st.SearchStrategy[Condition]:
    """Biased towards product/status/payment, whose combinations carry the semantics."""
    return st.one_of(
        PRODUCT_C,
        STATUS_C,
        PAYMENT_C,
        PRODUCT_C,
        STATUS_C,
        PAYMENT_C,
        SEARCH_C,
        JOINED_C,
        EXPIRES_C,
        DOMAIN_C,
    )


def groups() -> st.SearchStrategy[Group]:
    modes = st.sampled_from([Mode.AND, Mode.OR])
    # nested groups: often only status/payment (the "alternatives" case)
    nested_items = st.one_of(STATUS_C, PAYMENT_C, conditions())
    nested = st.builds(Group, modes, st.lists(nested_items, min_size=2, max_size=3).map(tuple))
    items = st.lists(st.one_of(conditions(), conditions(), nested), min_size=1, max_size=4)
    general = st.builds(Group, modes, items.map(tuple))
    # one AND scope of membership conditions, maybe with alternatives: where the
    # "same membership" semantics live
    alternatives = st.builds(
        Group,
        st.just(Mode.OR),
        st.lists(st.one_of(STATUS_C, PAYMENT_C), min_size=2, max_size=3).map(tuple),
    )
    scope_items = st.lists(
        st.one_of(PRODUCT_C, STATUS_C, PAYMENT_C, alternatives), min_size=2, max_size=4
    )
    scope = st.builds(Group, st.just(Mode.AND), scope_items.map(tuple))
    return st.one_of(general, scope)


def _check(db: Database, data: list[C], filters: list[Group]) -> None:
    by_id = load(db, data)
    for flt in filters:
        expected = {i for i, p in by_id.items() if matches(flt, p, NOW)}
        assert selected(db, flt) == expected, str(flt)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=people(), filters=st.lists(groups(), min_size=1, max_size=8))
def test_oracle_sqlite(sqlite_db: Database, data: list[C], filters: list[Group]) -> None:
    _check(sqlite_db, data, filters)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=people(), filters=st.lists(groups(), min_size=1, max_size=8))
def test_oracle_postgresql(pg_url: str, data: list[C], filters: list[Group]) -> None:
    db = _PG.get(pg_url)
    if db is None:
        db = _PG[pg_url] = open_database(pg_url)
    _check(db, data, filters)


_PG: dict[str, Database] = {}


@pytest.fixture(autouse=True)
def _close_pg() -> object:
    yield
    for db in _PG.values():
        db.dispose()
    _PG.clear()
