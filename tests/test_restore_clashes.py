"""A restore that meets a clash reports every problem and writes nothing, on both
databases. On PostgreSQL the first attempt skips the per-batch look-ups and lets the
constraints find a clash; these pin that the answer is the same as SQLite's: the
full list of problems, or the rows renumbered, never a half-restore or a driver
traceback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from session_tui.data.db import Database
from session_tui.data.deletion import RestoreConflict, delete_contacts, restore_backup
from session_tui.data.tables import contact_t, event_t, membership_t, product_t
from tests.helpers import T0, add_contacts, add_membership, add_product
from tests.test_deletion import add_event, snapshot


def people(db: Database, *names: str) -> list[int]:
    """Contacts by first name, each with the email `name@example.com`."""
    return add_contacts(db, [(f"{n.lower()}@example.com", n, "Doe") for n in names])


def test_every_problem_is_listed_and_nothing_written(db: Database) -> None:
    """A taken email and a product deleted since: both named, in one refusal."""
    ann, ben, _cem = people(db, "Ann", "Ben", "Cem")
    gone = add_product(db, "Retired course")
    kept = add_product(db, "Coaching")
    add_membership(db, ann, gone, "paid", expires=T0 + timedelta(days=30))
    add_membership(db, ben, kept, "free")
    result = delete_contacts(db, [ann, ben])
    with db.engine.begin() as conn:
        conn.execute(delete(product_t).where(product_t.c.id == gone))
    add_contacts(db, [("ben@example.com", "Another", "Ben")])
    before = snapshot(db)

    with pytest.raises(RestoreConflict) as info:
        restore_backup(db, result.backup_path)

    problems = info.value.problems
    assert len(problems) == 2, problems
    assert "ben@example.com" in problems[0]
    assert f"product id(s) {gone} no longer exist" in problems[1]
    assert snapshot(db) == before


def test_restore_after_a_refusal_succeeds_once_the_clash_is_gone(db: Database) -> None:
    """The first attempt's rollback leaves nothing behind (no rows, no temporary
    state): once the clashing contact is removed, the same file restores exactly."""
    ann, ben = people(db, "Ann", "Ben")
    course = add_product(db, "Course")
    m = add_membership(db, ann, course, "paid", expires=T0 + timedelta(days=9))
    add_event(db, m, "granted", T0)
    before = snapshot(db)
    result = delete_contacts(db, [ann, ben])
    (intruder,) = add_contacts(db, [("ann@example.com", "Someone", "Else")])
    with pytest.raises(RestoreConflict):
        restore_backup(db, result.backup_path)
    with db.engine.begin() as conn:
        conn.execute(delete(contact_t).where(contact_t.c.id == intruder))

    restored = restore_backup(db, result.backup_path)

    assert (restored.contacts, restored.memberships, restored.events) == (2, 1, 1)
    assert restored.renumbered == 0
    assert snapshot(db) == before


def test_a_taken_event_id_is_renumbered_and_the_rest_kept(db: Database) -> None:
    """A history event id taken since (an explicit id, as another tool may write):
    the event gets a new id, everything else comes back as it was."""
    ann, ben = people(db, "Ann", "Ben")
    course = add_product(db, "Course")
    m_ann = add_membership(db, ann, course, "paid", expires=T0 + timedelta(days=9))
    m_ben = add_membership(db, ben, course, "free")
    e_ann = add_event(db, m_ann, "granted", T0, "ann's")
    result = delete_contacts(db, [ann])
    with db.engine.begin() as conn:
        conn.execute(
            event_t.insert().values(
                id=e_ann, membership_id=m_ben, at=T0, kind="note", detail="ben's", actor="x"
            )
        )

    restored = restore_backup(db, result.backup_path)

    assert restored.renumbered == 1
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(event_t.c.id, event_t.c.membership_id, event_t.c.detail).order_by(event_t.c.id)
        ).all()
        members = conn.execute(select(membership_t.c.id).order_by(membership_t.c.id)).scalars()
        assert list(members) == [m_ann, m_ben]
    assert (e_ann, m_ben, "ben's") in rows
    assert [(mid, d) for _i, mid, d in rows if d == "ann's"] == [(m_ann, "ann's")]
    assert [i for i, _m, d in rows if d == "ann's"] != [e_ann]


def test_a_clash_in_a_later_batch_rolls_back_the_batches_before_it(db: Database) -> None:
    """The first attempt (no look-ups, on both databases) has put whole batches in
    when the constraints stop it at the last one: those are rolled back and the
    careful attempt restores the file once, renumbering the membership whose id was
    taken. The search index holds each restored contact once, not twice."""
    from session_tui.data.deletion.restore import BATCH
    from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository

    n = BATCH * 2 + 10  # three batches; the clash is in the third
    ids = add_contacts(db, [(f"p{i}@example.com", f"Pat{i}", "Quill") for i in range(n)])
    (stays,) = people(db, "Stays")
    course, other = add_product(db, "Course"), add_product(db, "Other")
    m_last = add_membership(db, ids[-1], course, "paid", expires=T0 + timedelta(days=9))
    add_event(db, m_last, "granted", T0, "last's")
    before = snapshot(db)
    result = delete_contacts(db, ids)
    with db.engine.begin() as conn:  # another tool writes the deleted membership id
        conn.execute(
            membership_t.insert().values(
                id=m_last, contact_id=stays, product_id=other, payment_type="free", started_at=T0
            )
        )
    progress: list[tuple[int, int]] = []

    restored = restore_backup(db, result.backup_path, progress=lambda d, t: progress.append((d, t)))

    assert (restored.contacts, restored.memberships, restored.events) == (n, 1, 1)
    assert restored.renumbered == 1
    assert progress[-1] == (n, n)
    after = snapshot(db)
    assert after["contact"] == before["contact"]
    with db.engine.connect() as conn:
        moved = conn.execute(
            select(membership_t.c.id).where(membership_t.c.contact_id == ids[-1])
        ).scalar_one()
        history = conn.execute(
            select(event_t.c.membership_id).where(event_t.c.detail == "last's")
        ).scalar_one()
    assert moved != m_last and history == moved
    assert ContactsRepository(db).count(ContactQuery(search="quill")) == n
