"""Concurrent writers (issue #13, items 3-5), on a SQLite file and on PostgreSQL.

- Two sessions cancel membership A and membership B of the same contacts at once:
  every contact's stored status (`active_until`) must equal the one recomputed
  from its memberships. Before the fix PostgreSQL kept `9999-12-31` for some
  (READ COMMITTED read the other membership from a stale snapshot) and SQLite
  failed calls at once with "database is busy".
- A bulk delete runs while another session extends and cancels memberships of
  those and other contacts: no deadlock reaches either caller, and the result
  is consistent.
- Three CLI processes write to one SQLite file at the same time: every write
  waits for its turn (BEGIN IMMEDIATE + busy_timeout) instead of failing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database, open_database
from session_tui.data.deletion import delete_contacts
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.tables import contact_t, membership_t
from session_tui.data.validation import ValidationError
from tests.helpers import T0, add_product
from tests.reliability.helpers import integrity_ok


def seed(db: Database, n: int, products: list[int]) -> list[int]:
    """`n` contacts, each with one membership of every product (active, expiring
    in a year) and a correct `active_until`; returns the contact ids ascending."""
    expires = T0 + timedelta(days=365)
    with db.engine.begin() as conn:
        conn.execute(
            insert(contact_t),
            [
                {
                    "email": f"c{i:05d}@example.com",
                    "first_name": f"F{i}",
                    "last_name": f"L{i}",
                    "created_at": T0,
                    "updated_at": T0,
                    "version": 1,
                    "active_until": expires,
                }
                for i in range(n)
            ],
        )
        ids = sorted(conn.execute(select(contact_t.c.id)).scalars())
        conn.execute(
            insert(membership_t),
            [
                {
                    "contact_id": cid,
                    "product_id": pid,
                    "payment_type": "paid",
                    "started_at": T0,
                    "expires_at": expires,
                }
                for cid in ids
                for pid in products
            ],
        )
    return ids


def memberships_of(db: Database, product_id: int) -> list[int]:
    m = membership_t.c
    with db.engine.connect() as conn:
        return list(
            conn.execute(
                select(m.id).where(m.product_id == product_id).order_by(m.contact_id)
            ).scalars()
        )


def wrong_statuses(db: Database) -> list[tuple[str, Any, Any]]:
    """(email, stored, recomputed) of every contact whose stored `active_until` is not
    the latest end (cancelled, else expiry, else never) of its memberships --
    computed here in Python, independently of the code under test."""
    ends: dict[int, datetime] = {}
    with db.engine.connect() as conn:
        for cid, expires, cancelled in conn.execute(
            select(
                membership_t.c.contact_id, membership_t.c.expires_at, membership_t.c.cancelled_at
            )
        ):
            end = cancelled or expires or FAR_FUTURE
            ends[cid] = max(ends.get(cid, end), end)
        contacts = list(
            conn.execute(select(contact_t.c.id, contact_t.c.email, contact_t.c.active_until))
        )
    return [(e, stored, ends.get(cid)) for cid, e, stored in contacts if stored != ends.get(cid)]


def run_together(*jobs: Callable[[], None]) -> list[BaseException]:
    """Start the jobs in threads at the same moment; the exceptions they raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def wrap(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def two_sessions(db: Database, db_url: str) -> Iterator[tuple[Database, Database]]:
    """Two independent users (engines, pools) of the test database."""
    a, b = open_database(db_url), open_database(db_url)
    try:
        yield a, b
    finally:
        a.dispose()
        b.dispose()


def test_cancelling_two_memberships_at_once_keeps_every_status_right(
    db: Database, two_sessions: tuple[Database, Database]
) -> None:
    pa, pb = add_product(db, "Alpha"), add_product(db, "Beta")
    seed(db, 300, [pa, pb])
    alpha, beta = memberships_of(db, pa), memberships_of(db, pb)
    db_a, db_b = two_sessions

    def cancel_all(session: Database, ids: list[int]) -> Callable[[], None]:
        def job() -> None:
            repo = MembershipsRepository(session)
            for mid in ids:
                repo.cancel(mid, actor="test")

        return job

    errors = run_together(cancel_all(db_a, alpha), cancel_all(db_b, beta))
    assert errors == []
    with db.engine.connect() as conn:
        cancelled = conn.execute(
            select(func.count()).where(membership_t.c.cancelled_at.is_not(None))
        ).scalar_one()
        never = conn.execute(
            select(func.count()).where(contact_t.c.active_until == FAR_FUTURE)
        ).scalar_one()
    assert cancelled == 600
    assert never == 0
    assert wrong_statuses(db) == []


def test_bulk_delete_and_membership_edits_do_not_deadlock(
    db: Database, two_sessions: tuple[Database, Database], tmp_path: Path
) -> None:
    product = add_product(db, "Alpha")
    ids = seed(db, 3600, [product])
    doomed, kept = ids[:3000], ids[3000:]
    m = membership_t.c
    with db.engine.connect() as conn:
        by_contact = {cid: mid for cid, mid in conn.execute(select(m.contact_id, m.id))}
    # Interleave: memberships of contacts being deleted (in the delete's order, so
    # the editor keeps meeting the chunk the delete is working on) and of others.
    targets: list[int] = []
    for i, cid in enumerate(doomed):
        targets.append(by_contact[cid])
        if i % 5 == 0:
            targets.append(by_contact[kept[(i // 5) % len(kept)]])
    db_a, db_b = two_sessions
    outcome: dict[str, Any] = {"gone": 0, "done": 0}
    new_expiry = T0 + timedelta(days=800)
    deleted = threading.Event()

    def delete_job() -> None:
        try:
            outcome["result"] = delete_contacts(db_a, doomed, backups_dir=tmp_path / "backups")
        finally:
            deleted.set()

    def edit_job() -> None:
        # Edits until the delete has finished (and at least 50 of them).
        repo = MembershipsRepository(db_b)
        for n, mid in enumerate(targets):
            if n >= 50 and deleted.is_set():
                break
            try:
                if n % 2:
                    repo.cancel(mid, actor="test")
                else:
                    repo.extend(mid, new_expiry + timedelta(days=n), actor="test")
                outcome["done"] += 1
            except ValidationError:  # deleted meanwhile, or already cancelled
                outcome["gone"] += 1

    errors = run_together(delete_job, edit_job)
    assert errors == []
    assert outcome["result"].contacts == 3000
    assert outcome["done"] > 0
    with db.engine.connect() as conn:
        left = list(conn.execute(select(contact_t.c.id).order_by(contact_t.c.id)).scalars())
        orphans = conn.execute(
            select(func.count()).where(m.contact_id.not_in(select(contact_t.c.id)))
        ).scalar_one()
    assert left == kept
    assert orphans == 0
    assert wrong_statuses(db) == []
    assert integrity_ok(db)


def test_delete_and_extend_meeting_in_the_deadlock_window(pg_url: str, tmp_path: Path) -> None:
    """The interleaving that deadlocked, made to happen every time (PostgreSQL):
    the delete has locked its first chunk of contacts and is about to lock their
    memberships; just then an extend of one of those memberships starts and runs
    until it waits for a lock. Before the fix the extend held the membership and
    waited for the contact while the delete waited for the membership: a cycle,
    DeadlockDetected. Now the extend waits for the contact before it locks
    anything, the delete finishes, and the extend reports the membership gone."""
    db = open_database(pg_url)
    db_a, db_b = open_database(pg_url), open_database(pg_url)
    try:
        product = add_product(db, "Alpha")
        ids = seed(db, 600, [product])
        target = memberships_of(db, product)[10]  # of a contact in the first chunk
        contacts_locked, editor_waits = threading.Event(), threading.Event()

        def on_delete_sql(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
            if "FROM membership" in sql and "FOR UPDATE" in sql and not contacts_locked.is_set():
                contacts_locked.set()
                editor_waits.wait(timeout=60)

        def on_edit_sql(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
            # The first statement of the extend that needs the contact's lock.
            if sql.startswith("UPDATE contact") or ("FROM contact" in sql and "FOR UPDATE" in sql):
                editor_waits.set()

        event.listen(db_a.engine, "before_cursor_execute", on_delete_sql)
        event.listen(db_b.engine, "before_cursor_execute", on_edit_sql)
        outcome: dict[str, Any] = {}

        def delete_job() -> None:
            outcome["deleted"] = delete_contacts(db_a, ids, backups_dir=tmp_path / "b")

        def edit_job() -> None:
            assert contacts_locked.wait(timeout=60)
            try:
                MembershipsRepository(db_b).extend(target, T0 + timedelta(days=900))
            except ValidationError as exc:
                outcome["edit"] = exc.message

        errors = run_together(delete_job, edit_job)
        assert errors == []
        assert editor_waits.is_set()
        assert outcome["deleted"].contacts == 600
        assert "no longer exists" in outcome["edit"]
        with db.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(membership_t)).scalar_one() == 0
    finally:
        for d in (db, db_a, db_b):
            d.dispose()


_WRITER = r"""
import sys
from session_tui.cli import main

db, name = sys.argv[1], sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()
failed = 0
for i in range(20):
    code = main(["--db", db, "memberships", "add", f"{name}-{i}@example.com", "Coaching",
                 "--payment", "paid"])
    failed += code != 0
print(f"failed {failed}", flush=True)
"""


def test_three_cli_writers_on_one_sqlite_file_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    db = open_database(str(path))
    try:
        add_product(db, "Coaching")
    finally:
        db.dispose()
    env = {**os.environ, "TZ": "UTC"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), f"w{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(3)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    for child in children:  # all three start writing at once
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=300) for child in children]
    for (out, err), child in zip(results, children, strict=True):
        assert child.returncode == 0, err
        assert out.strip().splitlines()[-1] == "failed 0", err
        assert "busy" not in err
    db = open_database(str(path))
    try:
        with db.engine.connect() as conn:
            emails = set(conn.execute(select(contact_t.c.email)).scalars())
            members = conn.execute(select(func.count()).select_from(membership_t)).scalar_one()
    finally:
        db.dispose()
    assert emails == {f"w{n}-{i}@example.com" for n in range(3) for i in range(20)}
    assert members == 60
