"""Bulk changes by membership id (data/bulk_by_membership.py) on SQLite and PostgreSQL:
plan counts, apply with history and actor, active_until, undo, races, a concurrent
writer; and the Memberships screen's orders and select-all ids (repositories reads)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from session_tui.data import bulk_by_membership as mod
from session_tui.data.bulk_by_membership import (
    MembershipAction,
    apply_membership_plan,
    apply_memberships,
    plan_memberships,
)
from session_tui.data.bulk_common import BulkCancelled
from session_tui.data.bulk_undo import undo_bulk
from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database, open_database
from session_tui.data.deletion import delete_contacts
from session_tui.data.repositories.memberships import MembershipQuery, MembershipsRepository
from session_tui.data.repositories.memberships.rows import MembershipSort
from session_tui.data.tables import contact_t, event_t, membership_t
from session_tui.data.validation import ValidationError
from tests.helpers import add_contacts, add_membership, add_product

NOW = datetime(2026, 3, 1, 12, 0, 0)
PAST = datetime(2025, 6, 1)
LATER = datetime(2027, 1, 31)


def clock() -> datetime:
    return NOW


def dump(db: Database) -> tuple[list[Any], list[Any], list[Any]]:
    with db.engine.connect() as conn:
        return (
            sorted(tuple(r) for r in conn.execute(select(membership_t))),
            sorted(tuple(r) for r in conn.execute(select(event_t))),
            sorted(
                tuple(r) for r in conn.execute(select(contact_t.c.id, contact_t.c.active_until))
            ),
        )


def world(db: Database) -> dict[str, Any]:
    """Memberships of two products and an archived one: active, expired (by date),
    cancelled, active until later, never expiring, of the archived product."""
    ids = add_contacts(db, [(f"p{i}@example.org", f"P{i}", "Test") for i in range(5)])
    course = add_product(db, "Course")
    other = add_product(db, "Other")
    old = add_product(db, "Old", archived=True)
    m = [
        add_membership(db, ids[0], course, "paid", expires=datetime(2026, 6, 1)),
        add_membership(db, ids[1], course, "paid", expires=PAST),
        add_membership(db, ids[2], course, "free", cancelled=datetime(2025, 9, 1, 8, 30)),
        add_membership(db, ids[3], other, "free", expires=datetime(2026, 12, 31, 17, 45)),
        add_membership(db, ids[0], other, "comped"),
        add_membership(db, ids[4], old, "paid"),
    ]
    return {"contacts": ids, "m": m}


def test_extend_plan_counts_those_left_alone_and_writes_nothing(db: Database) -> None:
    w = world(db)
    before = dump(db)
    plan = plan_memberships(db, MembershipAction.extend(LATER), [*w["m"], 10_000], clock=clock)
    c = plan.counts
    assert (c.selected, c.gone, c.changed, c.already_cancelled, c.archived) == (7, 1, 4, 1, 1)
    assert plan.sentence == (
        "Extend 4 memberships (expires 2027-01-31); 1 is cancelled and is left alone; "
        "1 is of an archived product and is left alone; 1 selected membership no longer exists"
    )
    assert plan.past_warning is None
    assert dump(db) == before


def test_apply_writes_events_with_actor_status_and_undo(db: Database) -> None:
    w = world(db)
    before = dump(db)
    res = apply_memberships(db, MembershipAction.cancel(), w["m"], actor="coach", clock=clock)
    assert res.counts.changed == 4 and res.counts.already_cancelled == 1
    repo = MembershipsRepository(db, clock=clock)
    rows = {r.id: r for r in repo.all()}
    assert all(rows[i].cancelled_at == NOW for i in (w["m"][0], w["m"][1], w["m"][3], w["m"][4]))
    assert rows[w["m"][5]].cancelled_at is None  # archived product: left alone
    with db.engine.connect() as conn:
        events = conn.execute(
            select(event_t.c.membership_id, event_t.c.kind, event_t.c.actor, event_t.c.at).order_by(
                event_t.c.id
            )
        ).all()
        until = dict(conn.execute(select(contact_t.c.id, contact_t.c.active_until)).all())
    # the passed expiry of m[1] is stored as history first, then one cancel per membership
    assert [(e.membership_id, e.kind) for e in events if e.kind == "expired"] == [
        (w["m"][1], "expired")
    ]
    cancels = [e for e in events if e.kind == "cancelled"]
    assert sorted(e.membership_id for e in cancels) == sorted(
        [w["m"][0], w["m"][1], w["m"][3], w["m"][4]]
    )
    assert {e.actor for e in cancels} == {"coach"} and {e.at for e in cancels} == {NOW}
    assert until[w["contacts"][0]] == NOW and until[w["contacts"][4]] == FAR_FUTURE
    assert res.undo.label == "Cancel 4 memberships"
    undone = undo_bulk(db, res.undo)
    assert undone.restored == 4
    assert dump(db) == before


@pytest.mark.parametrize(
    "action",
    [MembershipAction.extend(None), MembershipAction.payment("comped"), MembershipAction.cancel()],
    ids=["extend", "payment", "cancel"],
)
def test_undo_restores_exactly_the_previous_state(db: Database, action: MembershipAction) -> None:
    w = world(db)
    before = dump(db)
    res = apply_memberships(db, action, w["m"], clock=clock)
    assert dump(db) != before and not res.undo.empty
    undo_bulk(db, res.undo)
    assert dump(db) == before


def test_payment_details_match_the_single_membership_code(db: Database) -> None:
    w = world(db)
    res = apply_memberships(db, MembershipAction.payment("comped"), w["m"][:2], clock=clock)
    assert res.counts.changed == 2
    with db.engine.connect() as conn:
        details = (
            conn.execute(select(event_t.c.detail).where(event_t.c.kind == "payment_changed"))
            .scalars()
            .all()
        )
    assert details == ["paid -> comped", "paid -> comped"]
    again = plan_memberships(db, MembershipAction.payment("comped"), w["m"][:2], clock=clock)
    assert again.counts.unchanged == 2 and again.counts.changed == 0


def test_past_expiry_needs_a_second_confirmation(db: Database) -> None:
    w = world(db)
    plan = plan_memberships(db, MembershipAction.extend(datetime(2026, 2, 1)), w["m"], clock=clock)
    assert plan.past_warning == "this will make 4 memberships expired"
    before = dump(db)
    with pytest.raises(ValidationError, match="in the past"):
        apply_membership_plan(db, plan, clock=clock)
    assert dump(db) == before
    res = apply_membership_plan(db, plan, allow_past=True, clock=clock)
    assert res.counts.changed == 4


def test_memberships_deleted_after_the_plan_are_counted_gone(db: Database, tmp_path: Any) -> None:
    w = world(db)
    plan = plan_memberships(db, MembershipAction.payment("free"), w["m"], clock=clock)
    assert plan.counts.changed == 3  # m[2] is cancelled, m[3] already free, m[5] archived
    delete_contacts(db, [w["contacts"][0]], backups_dir=tmp_path)  # m[0] and m[4]
    res = apply_membership_plan(db, plan, clock=clock)
    assert (res.counts.gone, res.counts.changed) == (2, 1)
    assert "2 selected memberships no longer exist" in res.counts.sentence


def test_progress_and_cancel_roll_back(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mod, "BULK_CHUNK", 2)
    w = world(db)
    before = dump(db)
    seen: list[tuple[int, int]] = []
    with pytest.raises(BulkCancelled):
        apply_memberships(
            db,
            MembershipAction.cancel(),
            w["m"],
            progress=lambda done, total: seen.append((done, total)),
            cancelled=lambda: len(seen) >= 2,
        )
    assert seen == [(2, 6), (4, 6)]
    assert dump(db) == before


def test_a_concurrent_writer_and_a_bulk_change_both_land(db_url: str) -> None:
    """Another session cancels and deletes some of the selected memberships' contacts
    while the bulk extend runs: nothing fails, each change lands once."""
    db = open_database(db_url)
    other_db = open_database(db_url)
    try:
        ids = add_contacts(db, [(f"c{i}@example.org", "", "") for i in range(300)])
        course = add_product(db, "Course")
        mids = [add_membership(db, cid, course, "paid") for cid in ids]
        errors: list[BaseException] = []
        start = threading.Event()
        other = MembershipsRepository(other_db)

        def writer() -> None:
            start.wait()
            try:
                for mid in mids[::10]:
                    other.change_payment(mid, "comped", actor="other")
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        start.set()
        res = apply_memberships(db, MembershipAction.extend(LATER), mids, actor="bulk")
        thread.join()
        assert errors == [] and res.counts.changed == 300
        rows = MembershipsRepository(db).all()
        assert {r.expires_at for r in rows} == {LATER}
        assert sum(r.payment_type == "comped" for r in rows) == 30
        with db.engine.connect() as conn:
            kinds = conn.execute(select(event_t.c.kind)).scalars().all()
            until = set(conn.execute(select(contact_t.c.active_until)).scalars())
        assert sorted(kinds) == ["extended"] * 300 + ["payment_changed"] * 30
        assert until == {LATER}
    finally:
        other_db.dispose()
        db.dispose()


# -- the Memberships screen's orders and select-all --------------------------------------------
def _emails(rows: Any) -> list[str]:
    return [f"{r.email}/{r.product}" for r in rows]


def test_orders_page_forwards_and_backwards_alike(db: Database) -> None:
    w = world(db)
    repo = MembershipsRepository(db, clock=clock)
    total = repo.count(MembershipQuery())
    assert total == 6
    for sort in MembershipSort:
        for descending in (False, True):
            whole = repo.page(MembershipQuery(), 0, 100, sort=sort, descending=descending)
            assert len(whole) == 6
            # every window, read forwards or (second half) backwards, is a slice of it
            for offset in range(6):
                for limit in (1, 2, 4):
                    part = repo.page(
                        MembershipQuery(), offset, limit, total, sort=sort, descending=descending
                    )
                    assert part == whole[offset : offset + limit], (sort, descending, offset)
            rev = repo.page(MembershipQuery(), 0, 100, sort=sort, descending=not descending)
            assert rev == whole[::-1]
    by_email = repo.page(MembershipQuery(), 0, 100, sort=MembershipSort.EMAIL, descending=False)
    assert _emails(by_email)[:2] == ["p0@example.org/Course", "p0@example.org/Other"]
    by_product = repo.page(MembershipQuery(), 0, 100, sort=MembershipSort.PRODUCT, descending=False)
    assert [r.product for r in by_product] == ["Course"] * 3 + ["Old"] + ["Other"] * 2
    expires = repo.page(MembershipQuery(), 0, 100, sort=MembershipSort.EXPIRES, descending=False)
    # soonest first, "never" (no expiry: cancelled m[2], m[4], m[5]) last, by id
    m = w["m"]
    assert [r.id for r in expires] == [m[1], m[0], m[3], m[2], m[4], m[5]]


def test_ids_are_every_match_of_the_query(db: Database) -> None:
    w = world(db)
    repo = MembershipsRepository(db, clock=clock)
    assert sorted(repo.ids(MembershipQuery())) == sorted(w["m"])
    products = {r.product: r.product_id for r in repo.all()}
    course = MembershipQuery(product_id=products["Course"])
    assert sorted(repo.ids(course)) == sorted(w["m"][:3])
    assert sorted(repo.ids(MembershipQuery(search="p0@"))) == sorted([w["m"][0], w["m"][4]])
