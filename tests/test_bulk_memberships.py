"""Bulk membership actions (data/bulk_memberships.py, data/bulk_undo.py) on SQLite and
PostgreSQL: plan counts, apply, history and actor, active_until, undo, refusals, races."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from session_tui.data import bulk_memberships as bulk_mod
from session_tui.data.bulk_memberships import (
    BulkAction,
    BulkCancelled,
    apply_bulk,
    apply_plan,
    plan_bulk,
)
from session_tui.data.bulk_undo import UndoConflict, undo_bulk
from session_tui.data.clock import FAR_FUTURE, actor
from session_tui.data.db import Database, open_database
from session_tui.data.deletion import delete_contacts
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.tables import contact_t, event_t, membership_t
from session_tui.data.validation import ValidationError
from tests.helpers import add_contacts, add_membership, add_product

NOW = datetime(2026, 3, 1, 12, 0, 0)
PAST = datetime(2025, 6, 1)
LATER = datetime(2027, 1, 31)


def clock() -> datetime:
    return NOW


def dump(db: Database) -> tuple[list[Any], list[Any], list[Any]]:
    """Every membership, history event and contact status column, as rows."""
    with db.engine.connect() as conn:
        return (
            sorted(tuple(r) for r in conn.execute(select(membership_t))),
            sorted(tuple(r) for r in conn.execute(select(event_t))),
            sorted(
                tuple(r) for r in conn.execute(select(contact_t.c.id, contact_t.c.active_until))
            ),
        )


def world(db: Database) -> dict[str, Any]:
    """Six contacts and their "Course" memberships: none, active, expired (by date),
    cancelled, active until later, and none again; plus an unrelated product."""
    ids = add_contacts(db, [(f"p{i}@example.org", f"P{i}", "Test") for i in range(6)])
    course = add_product(db, "Course")
    other = add_product(db, "Other")
    add_membership(db, ids[1], course, "paid")
    add_membership(db, ids[2], course, "paid", expires=PAST)
    add_membership(db, ids[3], course, "free", cancelled=datetime(2025, 9, 1, 8, 30))
    add_membership(db, ids[4], course, "free", expires=datetime(2026, 12, 31, 17, 45))
    add_membership(db, ids[5], other, "paid")
    return {"ids": ids, "course": course, "other": other}


def test_grant_plan_counts_and_sentence_write_nothing(db: Database) -> None:
    w = world(db)
    before = dump(db)
    plan = plan_bulk(db, BulkAction.grant("course", "comped"), [*w["ids"], 10_000], clock=clock)
    c = plan.counts
    assert (c.selected, c.gone, c.new, c.reactivated, c.already_active) == (7, 1, 2, 2, 2)
    assert plan.sentence == (
        'Grant "Course" (comped, never expires) to 6 contacts: 2 new memberships, '
        "2 reactivated, 2 already active; 1 selected contact no longer exists"
    )
    assert plan.past_warning is None
    assert dump(db) == before


def test_extend_plan_sentence_names_those_left_alone(db: Database) -> None:
    w = world(db)
    plan = plan_bulk(db, BulkAction.extend("Course", LATER), w["ids"], clock=clock)
    c = plan.counts
    assert (c.changed, c.no_membership, c.already_cancelled) == (3, 2, 1)
    assert plan.sentence == (
        'Extend "Course" (expires 2027-01-31) for 3 contacts; 2 selected contacts have no '
        "such membership and are left alone; 1 already cancelled (left alone)"
    )


def test_grant_applies_rows_events_actor_and_status(db: Database) -> None:
    w = world(db)
    ids = w["ids"]
    res = apply_bulk(db, BulkAction.grant("Course", "comped", LATER), ids, clock=clock)
    assert (res.counts.new, res.counts.reactivated, res.counts.already_active) == (2, 2, 2)
    repo = MembershipsRepository(db, clock=clock)
    by_contact = {r.contact_id: r for r in repo.all() if r.product == "Course"}
    for cid in (ids[0], ids[5], ids[2], ids[3]):  # new and reactivated
        row = by_contact[cid]
        assert (row.payment_type, row.expires_at, row.cancelled_at) == ("comped", LATER, None)
    assert by_contact[ids[1]].payment_type == "paid"  # already active: left alone
    assert by_contact[ids[4]].expires_at == datetime(2026, 12, 31, 17, 45)
    granted = [e for e in repo.history(ids[0]) if e.kind == "granted"]
    assert [(e.detail, e.actor, e.at) for e in granted] == [
        ("comped, expires 2027-01-31", actor(), NOW)
    ]
    # the expired membership's passed expiry is stored before its reactivation
    kinds = [(e.kind, e.event_id is not None) for e in repo.history(ids[2])]
    assert kinds[:2] == [("reactivated", True), ("expired", True)]
    with db.engine.connect() as conn:
        until = dict(conn.execute(select(contact_t.c.id, contact_t.c.active_until)).all())
    assert until[ids[0]] == LATER and until[ids[3]] == LATER
    assert until[ids[5]] == FAR_FUTURE  # its "Other" membership never expires
    assert sorted(res.undo.created_memberships) == sorted(
        [by_contact[ids[0]].id, by_contact[ids[5]].id]
    )
    assert len(res.undo.created_events) == 2 + 2 + 1  # granted, reactivated, one expired


def _twins(db: Database) -> tuple[list[int], int]:
    """Pairs of contacts with identical Course memberships: one pair member is changed
    by the bulk action, the other by the single-membership repository."""
    ids = add_contacts(db, [(f"t{i}@example.org", "", "") for i in range(8)])
    course = add_product(db, "Course")
    for k, (pay, exp, canc) in enumerate(
        [
            ("paid", PAST, None),
            ("free", datetime(2026, 12, 31, 17, 45), None),
            ("free", None, datetime(2025, 9, 1, 8, 30)),
            ("comped", datetime(2026, 5, 1), None),
        ]
    ):
        for cid in ids[2 * k : 2 * k + 2]:
            add_membership(db, cid, course, pay, expires=exp, cancelled=canc)
    return ids, course


def _events(db: Database, contact_id: int) -> list[tuple[str, str]]:
    hist = MembershipsRepository(db, clock=clock).history(contact_id)
    return [(str(e.kind), e.detail) for e in hist if e.event_id is not None]


@pytest.mark.parametrize("kind", ["grant", "extend", "payment", "cancel"])
def test_history_details_match_the_single_membership_code(db: Database, kind: str) -> None:
    ids, _course = _twins(db)
    repo = MembershipsRepository(db, clock=clock)
    bulk_ids = ids[0::2]
    action = {
        "grant": BulkAction.grant("Course", "paid", datetime(2028, 2, 3, 4, 5)),
        "extend": BulkAction.extend("Course", None),
        "payment": BulkAction.payment("Course", "paid"),
        "cancel": BulkAction.cancel("Course"),
    }[kind]
    apply_bulk(db, action, bulk_ids, clock=clock, actor="coach")
    for cid in ids[1::2]:
        m = repo.for_contact(cid)[0]
        try:
            if kind == "grant":
                if m.status.value == "active":
                    continue  # the bulk grant leaves active memberships alone
                repo.grant(m.email, "Course", "paid", datetime(2028, 2, 3, 4, 5), actor="coach")
            elif kind == "extend":
                repo.extend(m.id, None, actor="coach")
            elif kind == "payment":
                if m.cancelled:
                    continue  # the bulk action leaves cancelled memberships alone
                repo.change_payment(m.id, "paid", actor="coach")
            else:
                repo.cancel(m.id, actor="coach")
        except ValidationError:
            continue  # the single code refuses it; the bulk one left it alone
    for single, bulk in zip(ids[1::2], bulk_ids, strict=True):
        assert _events(db, bulk) == _events(db, single)


@pytest.mark.parametrize(
    "action",
    [
        BulkAction.grant("Course", "comped", LATER),
        BulkAction.extend("Course", LATER),
        BulkAction.payment("Course", "comped"),
        BulkAction.cancel("Course"),
    ],
    ids=["grant", "extend", "payment", "cancel"],
)
def test_undo_restores_exactly_the_previous_state(db: Database, action: BulkAction) -> None:
    w = world(db)
    before = dump(db)
    res = apply_bulk(db, action, w["ids"], clock=clock)
    assert dump(db) != before
    assert not res.undo.empty and res.undo.label.split()[0] == res.counts.headline().split()[0]
    undone = undo_bulk(db, res.undo)
    assert undone.events == len(res.undo.created_events)
    assert dump(db) == before


def test_undo_refuses_when_a_membership_changed_since(db: Database) -> None:
    w = world(db)
    res = apply_bulk(db, BulkAction.extend("Course", LATER), w["ids"], clock=clock)
    MembershipsRepository(db).extend(MembershipsRepository(db).for_contact(w["ids"][1])[0].id, None)
    after = dump(db)
    with pytest.raises(UndoConflict, match="1 membership was changed since"):
        undo_bulk(db, res.undo)
    assert dump(db) == after


def test_undo_skips_memberships_of_contacts_deleted_since(db: Database, tmp_path: Any) -> None:
    w = world(db)
    res = apply_bulk(db, BulkAction.payment("Course", "comped"), w["ids"], clock=clock)
    delete_contacts(db, [w["ids"][1]], backups_dir=tmp_path)
    undone = undo_bulk(db, res.undo)
    assert (undone.restored, undone.gone) == (2, 1)
    rows = {r.contact_id: r.payment_type for r in MembershipsRepository(db).all()}
    assert rows[w["ids"][2]] == "paid" and rows[w["ids"][4]] == "free"


@pytest.mark.parametrize("archived", [True, False])
def test_archived_or_missing_product_is_refused(db: Database, archived: bool) -> None:
    w = world(db)
    add_product(db, "Old", archived=True)
    before = dump(db)
    name = "Old" if archived else "Nope"
    reason = "“Old” is archived" if archived else "there is no product “Nope”"
    for action in (BulkAction.grant(name, "paid"), BulkAction.cancel(name)):
        with pytest.raises(ValidationError, match=reason):
            plan_bulk(db, action, w["ids"])
        with pytest.raises(ValidationError, match=reason):
            apply_bulk(db, action, w["ids"])
    assert dump(db) == before


def test_product_archived_between_plan_and_apply_is_refused(db: Database) -> None:
    from session_tui.data.repositories.products import ProductsRepository

    w = world(db)
    plan = plan_bulk(db, BulkAction.grant("Course", "paid"), w["ids"])
    ProductsRepository(db).archive("Course")
    before = dump(db)
    with pytest.raises(ValidationError, match="archived"):
        apply_plan(db, plan)
    assert dump(db) == before


def test_past_expiry_needs_a_second_confirmation(db: Database) -> None:
    w = world(db)
    past = datetime(2026, 2, 1)
    plan = plan_bulk(db, BulkAction.extend("Course", past), w["ids"], clock=clock)
    assert plan.past_warning == "this will make 3 memberships expired"
    assert plan.sentence.endswith("; this will make 3 memberships expired")
    before = dump(db)
    with pytest.raises(ValidationError, match="in the past"):
        apply_plan(db, plan, clock=clock)
    assert dump(db) == before
    res = apply_plan(db, plan, allow_past=True, clock=clock)
    assert res.counts.changed == 3
    statuses = {
        r.status.value
        for r in MembershipsRepository(db, clock=clock).all()
        if r.product == "Course"
    }
    assert statuses == {"expired"}


def test_grant_expiry_not_after_start_is_refused(db: Database) -> None:
    w = world(db)
    with pytest.raises(ValidationError, match="after the start"):
        plan_bulk(db, BulkAction.grant("Course", "paid", PAST), w["ids"], clock=clock)
    with pytest.raises(ValidationError, match="after the start"):
        BulkAction.grant("Course", "paid", PAST, started_at=PAST)


def test_contacts_deleted_after_the_plan_are_counted_gone(db: Database, tmp_path: Any) -> None:
    w = world(db)
    plan = plan_bulk(db, BulkAction.cancel("Course"), w["ids"], clock=clock)
    assert plan.counts.changed == 3
    delete_contacts(db, [w["ids"][1], w["ids"][0]], backups_dir=tmp_path)
    res = apply_plan(db, plan, clock=clock)
    assert (res.counts.gone, res.counts.changed, res.counts.no_membership) == (2, 2, 1)
    assert "2 selected contacts no longer exist" in res.counts.sentence


def test_progress_and_cancel_roll_back(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_mod, "BULK_CHUNK", 2)
    w = world(db)
    before = dump(db)
    seen: list[tuple[int, int]] = []
    with pytest.raises(BulkCancelled):
        apply_bulk(
            db,
            BulkAction.grant("Course", "paid"),
            w["ids"],
            progress=lambda done, total: seen.append((done, total)),
            cancelled=lambda: len(seen) >= 2,
        )
    assert seen == [(2, 6), (4, 6)]
    assert dump(db) == before
    seen.clear()
    apply_bulk(
        db, BulkAction.grant("Course", "paid"), w["ids"], progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(2, 6), (4, 6), (6, 6)]


def test_a_concurrent_writer_and_a_bulk_action_both_land(db_url: str) -> None:
    db = open_database(db_url)
    other_db = open_database(db_url)
    try:
        ids = add_contacts(db, [(f"c{i}@example.org", "", "") for i in range(400)])
        add_product(db, "Course")
        add_product(db, "Other")
        errors: list[BaseException] = []
        start = threading.Event()

        def writer() -> None:
            # Another session grants another product to some of the same contacts, one
            # contact per transaction, while the bulk action runs. (Its own write lock
            # comes first, as for every bulk write; the single-membership repository's
            # SQLite transactions get the same with the project's BEGIN IMMEDIATE helper.)
            start.wait()
            try:
                for i in range(0, 400, 10):
                    apply_bulk(other_db, BulkAction.grant("Other", "paid"), [ids[i]])
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        start.set()
        res = apply_bulk(db, BulkAction.grant("Course", "comped"), ids)
        thread.join()
        assert errors == []
        assert res.counts.new == 400
        rows = MembershipsRepository(db).all()
        assert sum(r.product == "Course" for r in rows) == 400
        assert sum(r.product == "Other" for r in rows) == 40
        with db.engine.connect() as conn:
            events = conn.execute(select(event_t.c.kind)).scalars().all()
            until = set(conn.execute(select(contact_t.c.active_until)).scalars())
        assert sorted(events) == ["granted"] * 440
        assert until == {FAR_FUTURE}
    finally:
        other_db.dispose()
        db.dispose()
