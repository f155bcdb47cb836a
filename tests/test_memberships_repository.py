"""MembershipsRepository on SQLite and PostgreSQL: status and expiry at the boundaries,
grant / reactivate / extend / cancel / payment change, contact.active_until, history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import status_of
from session_tui.data.repositories.memberships import (
    MembershipQuery,
    MembershipsRepository,
    refresh_active_until,
)
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import EventKind, PaymentType, Status, contact_t, event_t
from session_tui.data.validation import ValidationError

NOW = datetime(2026, 3, 10, 12, 0, 0)


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _with_products(db: Database, clock: FakeClock) -> MembershipsRepository:
    products = ProductsRepository(db, clock)
    products.add("1:1 Coaching")
    products.add("Course")
    products.add("Retreat")
    products.archive("Retreat")
    return MembershipsRepository(db, clock)


@pytest.fixture
def repo(db: Database, clock: FakeClock) -> MembershipsRepository:
    return _with_products(db, clock)


def active_until(db: Database, email: str) -> datetime | None:
    with db.engine.connect() as conn:
        return conn.execute(
            select(contact_t.c.active_until).where(contact_t.c.email == email)
        ).scalar_one()


def kinds(repo: MembershipsRepository, contact_id: int) -> list[str]:
    return [str(e.kind) for e in repo.history(contact_id)]


@pytest.mark.parametrize(
    ("expires", "status"),
    [
        (NOW - timedelta(hours=4), Status.EXPIRED),  # today, earlier than now
        (NOW + timedelta(hours=4), Status.ACTIVE),  # today, later than now
        (NOW, Status.EXPIRED),  # exactly now: no longer active
        (NOW + timedelta(seconds=1), Status.ACTIVE),
        (NOW - timedelta(days=1), Status.EXPIRED),  # yesterday
        (None, Status.ACTIVE),  # never expires
    ],
)
def test_status_and_active_until_at_expiry_boundaries(
    repo: MembershipsRepository, db: Database, expires: datetime | None, status: Status
) -> None:
    started = NOW - timedelta(days=30)
    res = repo.grant("ann@example.com", "1:1 Coaching", "paid", expires, started)
    assert res.membership.status is status
    assert res.created_contact
    until = active_until(db, "ann@example.com")
    assert until == (expires if expires is not None else FAR_FUTURE)
    assert status_of(until, NOW) is status
    assert repo.count(MembershipQuery(status=status)) == 1
    other = Status.EXPIRED if status is Status.ACTIVE else Status.ACTIVE
    assert repo.count(MembershipQuery(status=other)) == 0


def test_expiry_happens_by_the_clock(
    repo: MembershipsRepository, db: Database, clock: FakeClock
) -> None:
    res = repo.grant("ann@example.com", "Course", "free", NOW + timedelta(hours=1))
    cid = res.membership.contact_id
    assert res.membership.status is Status.ACTIVE
    assert kinds(repo, cid) == ["granted"]
    clock.advance(hours=2)  # no job runs; only time passes
    assert repo.get(res.membership.id).status is Status.EXPIRED  # type: ignore[union-attr]
    history = repo.history(cid)
    assert [e.kind for e in history] == [EventKind.EXPIRED, EventKind.GRANTED]
    assert history[0].at == NOW + timedelta(hours=1)
    assert history[0].derived
    # derived, not stored
    with db.engine.connect() as conn:
        assert conn.execute(select(event_t.c.kind)).scalars().all() == ["granted"]
    assert status_of(active_until(db, "ann@example.com"), clock()) is Status.EXPIRED


def test_grant_normalises_email_and_creates_contact_once(repo: MembershipsRepository) -> None:
    a = repo.grant("  Ann@Example.COM ", "1:1 Coaching", PaymentType.PAID)
    b = repo.grant("ann@example.com", "course", "comped")
    assert a.created_contact and not b.created_contact
    assert a.membership.email == "ann@example.com"
    assert a.membership.contact_id == b.membership.contact_id
    assert b.membership.product == "Course"  # found ignoring case
    with pytest.raises(ValidationError) as err:
        repo.grant("not an email", "Course", "paid")
    assert err.value.field == "email"


def test_grant_refuses_bad_input_and_writes_nothing(
    repo: MembershipsRepository, db: Database
) -> None:
    with pytest.raises(ValidationError, match="archived"):
        repo.grant("ann@example.com", "Retreat", "paid")
    with pytest.raises(ValidationError, match="no product"):
        repo.grant("ann@example.com", "Nope", "paid")
    with pytest.raises(ValidationError, match="paid, free or comped"):
        repo.grant("ann@example.com", "Course", "gratis")
    with pytest.raises(ValidationError, match="after the start"):
        repo.grant("ann@example.com", "Course", "paid", NOW - timedelta(days=2), NOW)
    with db.engine.connect() as conn:
        assert conn.execute(select(contact_t.c.id)).all() == []  # rolled back


def test_back_filled_grant_with_past_dates(repo: MembershipsRepository, db: Database) -> None:
    res = repo.grant(
        "old@example.com",
        "Course",
        "paid",
        expires_at=datetime(2025, 1, 1),
        started_at=datetime(2024, 1, 1),
    )
    assert res.membership.status is Status.EXPIRED
    assert active_until(db, "old@example.com") == datetime(2025, 1, 1)
    history = repo.history(res.membership.contact_id)
    assert [(e.kind, e.at) for e in history] == [
        (EventKind.EXPIRED, datetime(2025, 1, 1)),
        (EventKind.GRANTED, datetime(2024, 1, 1)),
    ]
    assert history[1].detail == "paid, expires 2025-01-01"


def test_cancel_then_grant_again_reactivates(
    repo: MembershipsRepository, db: Database, clock: FakeClock
) -> None:
    first = repo.grant(
        "ann@example.com", "1:1 Coaching", "paid", NOW + timedelta(days=30), actor="coach"
    )
    mid, cid = first.membership.id, first.membership.contact_id
    clock.advance(days=1)
    cancelled = repo.cancel(mid, actor="coach")
    assert cancelled.status is Status.EXPIRED
    assert cancelled.cancelled_at == clock()
    assert active_until(db, "ann@example.com") == clock()  # cancelled_at wins
    assert status_of(active_until(db, "ann@example.com"), clock()) is Status.EXPIRED
    with pytest.raises(ValidationError, match="already cancelled"):
        repo.cancel(mid)
    with pytest.raises(ValidationError, match="cancelled"):
        repo.extend(mid, NOW + timedelta(days=90))

    clock.advance(days=1)
    again = repo.grant("ann@example.com", "1:1 coaching", "comped", actor="sam")
    assert again.reactivated and not again.created_contact
    assert again.membership.id == mid  # the same membership, not a second one
    assert again.membership.cancelled_at is None
    assert again.membership.payment_type == "comped"
    assert again.membership.expires_at is None
    assert again.membership.status is Status.ACTIVE
    assert active_until(db, "ann@example.com") == FAR_FUTURE
    history = repo.history(cid)
    assert [e.kind for e in history] == [
        EventKind.REACTIVATED,
        EventKind.CANCELLED,
        EventKind.GRANTED,
    ]
    assert history[0].actor == "sam" and history[1].actor == "coach"
    assert "paid -> comped" in history[0].detail
    assert "never" in history[0].detail
    assert repo.count(MembershipQuery(contact_id=cid)) == 1


def test_extend_and_payment_change_write_history(
    repo: MembershipsRepository, db: Database, clock: FakeClock
) -> None:
    m = repo.grant("ann@example.com", "Course", "paid", NOW + timedelta(days=5)).membership
    clock.advance(hours=1)
    new_expiry = datetime(2026, 12, 31)
    extended = repo.extend(m.id, new_expiry, actor="coach")
    assert extended.expires_at == new_expiry
    assert active_until(db, "ann@example.com") == new_expiry
    clock.advance(hours=1)
    changed = repo.change_payment(m.id, "comped", actor="coach")
    assert changed.payment_type == "comped"
    with pytest.raises(ValidationError, match="already comped"):
        repo.change_payment(m.id, "comped")
    with pytest.raises(ValidationError, match="after the start"):
        repo.extend(m.id, m.started_at - timedelta(days=1))
    clock.advance(hours=1)
    never = repo.extend(m.id, None)
    assert never.expires_at is None
    assert active_until(db, "ann@example.com") == FAR_FUTURE
    history = repo.history(m.contact_id)
    assert [(str(e.kind), e.detail) for e in history] == [
        ("extended", "2026-12-31 -> never"),
        ("payment_changed", "paid -> comped"),
        ("extended", "2026-03-15 12:00 -> 2026-12-31"),
        ("granted", "paid, expires 2026-03-15 12:00"),
    ]
    assert [e.at for e in history] == sorted((e.at for e in history), reverse=True)


def test_extending_an_expired_membership_keeps_the_past_expiry_in_history_once(
    repo: MembershipsRepository, db: Database, clock: FakeClock
) -> None:
    old_expiry = NOW - timedelta(days=10)
    m = repo.grant("ann@example.com", "Course", "paid", old_expiry, NOW - timedelta(days=40))
    cid = m.membership.contact_id
    assert kinds(repo, cid) == ["expired", "granted"]  # derived
    repo.extend(m.membership.id, NOW + timedelta(days=30))
    history = repo.history(cid)
    assert [str(e.kind) for e in history] == ["extended", "expired", "granted"]
    assert history[1].at == old_expiry and not history[1].derived  # stored now, once
    assert status_of(active_until(db, "ann@example.com"), clock()) is Status.ACTIVE
    clock.advance(days=31)  # the new expiry passes: derived again, at the new time
    history = repo.history(cid)
    assert [str(e.kind) for e in history] == ["expired", "extended", "expired", "granted"]
    assert history[0].derived and history[0].at == NOW + timedelta(days=30)


def test_cancelled_membership_has_no_derived_expiry(
    repo: MembershipsRepository, clock: FakeClock
) -> None:
    m = repo.grant("ann@example.com", "Course", "paid", NOW + timedelta(days=3)).membership
    repo.cancel(m.id)
    clock.advance(days=10)
    assert kinds(repo, m.contact_id) == ["cancelled", "granted"]


def test_active_until_is_the_latest_end_over_memberships(
    repo: MembershipsRepository, db: Database, clock: FakeClock
) -> None:
    a = repo.grant(
        "ann@example.com", "Course", "paid", NOW - timedelta(days=1), NOW - timedelta(days=9)
    ).membership
    assert active_until(db, "ann@example.com") == NOW - timedelta(days=1)
    b = repo.grant("ann@example.com", "1:1 Coaching", "free", NOW + timedelta(days=9)).membership
    assert active_until(db, "ann@example.com") == NOW + timedelta(days=9)
    repo.cancel(b.id)
    assert active_until(db, "ann@example.com") == NOW  # cancelled_at of b
    assert status_of(active_until(db, "ann@example.com"), clock()) is Status.EXPIRED
    repo.extend(a.id, None)
    assert active_until(db, "ann@example.com") == FAR_FUTURE
    # refresh_active_until recomputes from scratch (None = every contact)
    with db.engine.begin() as conn:
        conn.execute(contact_t.update().values(active_until=None))
        refresh_active_until(conn, None)
    assert active_until(db, "ann@example.com") == FAR_FUTURE
    with db.engine.begin() as conn:
        conn.execute(contact_t.update().values(active_until=None))
        refresh_active_until(conn, [a.contact_id])
    assert active_until(db, "ann@example.com") == FAR_FUTURE


def test_refresh_sets_null_for_contacts_without_memberships(
    repo: MembershipsRepository, db: Database
) -> None:
    m = repo.grant("ann@example.com", "Course", "paid").membership
    with db.engine.begin() as conn:
        conn.execute(event_t.delete())
        from session_tui.data.tables import membership_t

        conn.execute(membership_t.delete())
        refresh_active_until(conn, [m.contact_id])
    assert active_until(db, "ann@example.com") is None


def _seed_list(repo: MembershipsRepository, clock: FakeClock) -> None:
    people = [
        ("ann@example.com", "1:1 Coaching", "paid", None),
        ("ann@example.com", "Course", "free", NOW - timedelta(days=1)),
        ("bob@gmail.com", "Course", "comped", NOW + timedelta(days=2)),
        ("carla@orange.fr", "1:1 Coaching", "paid", NOW - timedelta(days=3)),
        ("dan@example.com", "Course", "paid", None),
    ]
    for i, (email, product, payment, expires) in enumerate(people):
        repo.grant(email, product, payment, expires, started_at=NOW - timedelta(days=20 - i))
    repo.cancel(repo.require("dan@example.com", "Course").id)


def test_page_and_count_with_filters(repo: MembershipsRepository, clock: FakeClock) -> None:
    _seed_list(repo, clock)
    coaching = ProductsRepository(repo.db).require("1:1 coaching").id
    q = MembershipQuery()
    assert repo.count(q) == 5
    rows = repo.page(q, 0, 10)
    # newest start first
    assert [r.email for r in rows] == [
        "dan@example.com",
        "carla@orange.fr",
        "bob@gmail.com",
        "ann@example.com",
        "ann@example.com",
    ]
    assert [r.status for r in rows] == [
        Status.EXPIRED,
        Status.EXPIRED,
        Status.ACTIVE,
        Status.EXPIRED,
        Status.ACTIVE,
    ]
    assert repo.count(MembershipQuery(status=Status.ACTIVE)) == 2
    assert repo.count(MembershipQuery(status=Status.EXPIRED)) == 3
    assert repo.count(MembershipQuery(product_id=coaching)) == 2
    assert repo.count(MembershipQuery(payment_type=PaymentType.PAID)) == 3
    assert repo.count(MembershipQuery(search="ANN")) == 2
    assert repo.count(MembershipQuery(search="orange")) == 1
    assert repo.count(MembershipQuery(email="Bob@Gmail.com")) == 1
    both = MembershipQuery(product_id=coaching, status=Status.ACTIVE, payment_type=PaymentType.PAID)
    assert [r.email for r in repo.page(both, 0, 10)] == ["ann@example.com"]
    assert repo.count(both) == 1


def test_page_second_half_reads_backwards_with_same_result(
    repo: MembershipsRepository, clock: FakeClock
) -> None:
    for i in range(23):
        repo.grant(f"p{i:02}@example.com", "Course", "paid", started_at=NOW - timedelta(days=i))
    q = MembershipQuery()
    total = repo.count(q)
    forward = [r.id for r in repo.page(q, 0, total)]
    for offset in (0, 5, 11, 12, 15, 20, 22, 30):
        assert [r.id for r in repo.page(q, offset, 5, total)] == forward[offset : offset + 5]


def test_products_member_counts(repo: MembershipsRepository, clock: FakeClock) -> None:
    _seed_list(repo, clock)
    counts = {
        p.name: (p.active_members, p.total_members)
        for p in ProductsRepository(repo.db, clock).all()
    }
    assert counts == {"1:1 Coaching": (1, 2), "Course": (1, 3), "Retreat": (0, 0)}


def test_membership_json_shape(repo: MembershipsRepository) -> None:
    m = repo.grant(
        "ann@example.com",
        "Course",
        "paid",
        datetime(2026, 12, 31),
        first_name="Ann",
        last_name="Smith",
    ).membership
    assert m.as_json() == {
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "Smith",
        "product": "Course",
        "payment_type": "paid",
        "status": "active",
        "started_at": "2026-03-10T12:00:00",
        "expires_at": "2026-12-31T00:00:00",
        "cancelled_at": None,
    }


def test_history_only_of_this_contact(repo: MembershipsRepository) -> None:
    a = repo.grant("ann@example.com", "Course", "paid").membership
    repo.grant("bob@gmail.com", "Course", "paid")
    assert len(repo.history(a.contact_id)) == 1
    assert repo.for_contact(a.contact_id)[0].product == "Course"


def test_require_explains_what_is_missing(repo: MembershipsRepository) -> None:
    repo.grant("ann@example.com", "Course", "paid")
    with pytest.raises(ValidationError, match="no product"):
        repo.require("ann@example.com", "Nope")
    with pytest.raises(ValidationError, match="no contact"):
        repo.require("zed@example.com", "Course")
    with pytest.raises(ValidationError, match="has no “1:1 Coaching” membership"):
        repo.require("ann@example.com", "1:1 coaching")


@pytest.fixture(scope="module")
def thirty_granted(module_db: Database) -> Database:
    """30 memberships, granted once per module and backend (the test below only reads)."""
    repo = _with_products(module_db, FakeClock())
    for i in range(30):
        first = ("Anna", "Annabel", "Joanne", "Bob")[i % 4]
        repo.grant(
            f"p{i}@{'example.com' if i % 3 else 'gmail.com'}",
            ("Course", "1:1 Coaching")[i % 2],
            "paid",
            NOW - timedelta(days=1) if i % 5 == 0 else None,
            started_at=NOW - timedelta(days=10 + i % 7, hours=i),
            first_name=first,
            last_name="Lee",
        )
    return module_db


@pytest.mark.parametrize(
    ("old", "new"), [("a", "an"), ("an", "anna"), ("exa", "example.com"), ("p1", "p12")]
)
@pytest.mark.parametrize("window", [3, 40])
@pytest.mark.parametrize("status", [None, Status.ACTIVE])
def test_refining_the_first_memberships_gives_the_first_of_the_narrower_search(
    thirty_granted: Database, old: str, new: str, window: int, status: Status | None
) -> None:
    """Typing on in the Memberships search box: the first rows of the narrower search are
    the rows among the old first rows whose contact matches it (same filter, same order)."""
    repo = MembershipsRepository(thirty_granted, FakeClock())
    old_q = MembershipQuery(search=old, status=status)
    new_q = MembershipQuery(search=new, status=status)
    assert MembershipsRepository.refines(old_q, new_q)
    shown = repo.page(old_q, 0, window)
    refined = repo.refine(new_q, shown)
    truth = [r.id for r in repo.page(new_q, 0, 1000)]
    assert truth
    assert [r.id for r in refined] == truth[: len(refined)]
    shown_ids = {r.id for r in shown}
    assert len(refined) == sum(1 for i in truth if i in shown_ids)


def test_only_a_narrower_membership_search_with_the_same_filter_is_a_refinement() -> None:
    base = MembershipQuery(search="ann")
    assert MembershipsRepository.refines(base, MembershipQuery(search="anna"))
    assert not MembershipsRepository.refines(base, MembershipQuery(search="an"))
    assert not MembershipsRepository.refines(
        base, MembershipQuery(search="anna", status=Status.ACTIVE)
    )
