"""`session-tui check [--repair] [--json]` and the data layer behind it
(session_tui/data/check.py), on a SQLite file and on PostgreSQL.

Also the retry of a transaction PostgreSQL aborts as a deadlock victim
(`Database.run_write`), with a real server-side deadlock_detected error."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from session_tui.cli import main
from session_tui.data.check import check_statuses, repair_statuses
from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import WRITE_ATTEMPTS, Database, describe_error
from session_tui.data.tables import contact_t, product_t
from tests.helpers import T0, add_contacts, add_membership, add_product

LATER = datetime(2027, 6, 1)


def seed(db: Database) -> dict[str, int]:
    """Six contacts with right statuses: a(never expires), b(expires), c(cancelled and
    expired memberships), d(no membership), e and f(expires)."""
    ids = add_contacts(db, [(f"{n}@example.com", n.upper(), "X") for n in "abcdef"])
    contacts = dict(zip("abcdef", ids, strict=True))
    p, q = add_product(db, "Alpha"), add_product(db, "Beta")
    add_membership(db, contacts["a"], p)
    add_membership(db, contacts["b"], p, expires=LATER)
    add_membership(db, contacts["c"], p, expires=LATER, cancelled=T0)
    add_membership(db, contacts["c"], q, expires=datetime(2026, 3, 1))
    add_membership(db, contacts["e"], q, expires=LATER)
    add_membership(db, contacts["f"], q, expires=LATER)
    return contacts


def corrupt(db: Database, contact_id: int, value: datetime | None) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            update(contact_t).where(contact_t.c.id == contact_id).values(active_until=value)
        )


def stored(db: Database, contact_id: int) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(
            select(contact_t.c.active_until).where(contact_t.c.id == contact_id)
        ).scalar_one()


def test_a_consistent_database_has_no_differences(db: Database) -> None:
    seed(db)
    report = check_statuses(db)
    assert (report.contacts, report.differences, report.remaining) == (6, 0, 0)
    assert report.examples == []


def test_check_finds_every_kind_of_wrong_status_and_repair_fixes_them(db: Database) -> None:
    c = seed(db)
    corrupt(db, c["c"], FAR_FUTURE)  # both memberships ended, stored "never" (the #13 bug)
    corrupt(db, c["a"], LATER)  # never expires, stored a date
    corrupt(db, c["b"], None)  # has a membership, stored none
    corrupt(db, c["d"], LATER)  # no membership, stored a date
    before = check_statuses(db)
    assert (before.differences, before.repaired, before.remaining) == (4, 0, 4)
    assert [d.email for d in before.examples] == [f"{n}@example.com" for n in "abcd"]
    shown = {d.email: (d.stored, d.expected) for d in before.examples}
    assert shown["c@example.com"] == (FAR_FUTURE, datetime(2026, 3, 1))
    assert shown["d@example.com"] == (LATER, None)
    assert stored(db, c["c"]) == FAR_FUTURE  # the check wrote nothing

    after = repair_statuses(db)
    assert (after.differences, after.repaired, after.remaining) == (4, 4, 0)
    assert stored(db, c["a"]) == FAR_FUTURE
    assert stored(db, c["b"]) == LATER
    assert stored(db, c["c"]) == datetime(2026, 3, 1)
    assert stored(db, c["d"]) is None
    assert stored(db, c["e"]) == LATER  # right ones untouched
    assert check_statuses(db).differences == 0


def test_examples_are_the_first_few_by_id(db: Database) -> None:
    c = seed(db)
    for n in "fedcba":
        corrupt(db, c[n], T0)
    report = check_statuses(db, examples=2)
    assert report.differences == 6
    assert [d.email for d in report.examples] == ["a@example.com", "b@example.com"]


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_check_reports_repairs_and_exits_by_what_remains(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    c = seed(db)
    code, out, _ = _cli(capsys, "--db", db_url, "check")
    assert code == 0 and "every status is right" in out
    corrupt(db, c["c"], FAR_FUTURE)
    code, out, _ = _cli(capsys, "--db", db_url, "check")
    assert code == 1
    assert "1 with a wrong status" in out
    assert "c@example.com: stored never expires, should be 2026-03-01 00:00:00" in out
    assert "check --repair" in out
    code, out, _ = _cli(capsys, "check", "--json", "--db", db_url)
    assert code == 1
    data = json.loads(out)
    assert data["differences"] == 1 and data["remaining"] == 1 and data["repaired"] == 0
    assert data["examples"] == [
        {
            "email": "c@example.com",
            "stored_active_until": "9999-12-31T00:00:00",
            "expected_active_until": "2026-03-01T00:00:00",
        }
    ]
    code, out, _ = _cli(capsys, "--db", db_url, "check", "--repair", "--json")
    assert code == 0
    assert json.loads(out)["repaired"] == 1
    assert stored(db, c["c"]) == datetime(2026, 3, 1)
    code, out, _ = _cli(capsys, "--db", db_url, "check", "--repair")
    assert code == 0 and "every status is right" in out


def test_cli_check_escapes_a_hostile_email(
    sqlite_db: Database, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (cid,) = add_contacts(sqlite_db, [("x\x1b[2J@example.com", "X", "Y")])
    corrupt(sqlite_db, cid, LATER)
    code, out, _ = _cli(capsys, "--db", sqlite_url, "check")
    assert code == 1
    assert "\x1b" not in out and "stored 2027-06-01 00:00:00, should be none" in out


# -- retrying a transaction PostgreSQL aborted as a deadlock victim ---------------------


def _deadlock(conn: Any) -> None:
    """A real server error with SQLSTATE 40P01 (deadlock_detected)."""
    conn.execute(
        text("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$")
    )


def _product_names(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(product_t.c.name).order_by(product_t.c.id)).scalars())


def test_a_deadlocked_transaction_is_run_again_from_the_start(pg_url: str) -> None:
    from session_tui.data.db import open_database

    db = open_database(pg_url)
    try:
        calls = 0

        def work(conn: Any) -> int:
            nonlocal calls
            calls += 1
            conn.execute(
                product_t.insert().values(name=f"try {calls}", archived=False, created_at=T0)
            )
            if calls < WRITE_ATTEMPTS:
                _deadlock(conn)
            return calls

        assert db.run_write(work) == WRITE_ATTEMPTS
        # The failed attempts were rolled back: only the last one's write is there.
        assert _product_names(db) == [f"try {WRITE_ATTEMPTS}"]
    finally:
        db.dispose()


def test_a_transaction_that_keeps_deadlocking_fails_with_a_clear_message(pg_url: str) -> None:
    from session_tui.data.db import open_database

    db = open_database(pg_url)
    try:
        calls = 0

        def work(conn: Any) -> None:
            nonlocal calls
            calls += 1
            conn.execute(product_t.insert().values(name="never", archived=False, created_at=T0))
            _deadlock(conn)

        with pytest.raises(OperationalError) as info:
            db.run_write(work)
        assert calls == WRITE_ATTEMPTS
        assert describe_error(info.value) == (
            "other changes to the same contacts kept conflicting with this one; "
            "nothing was changed: try again"
        )
        assert _product_names(db) == []
        with db.engine.connect() as conn:  # the connection is usable again
            assert conn.execute(select(func.count()).select_from(product_t)).scalar_one() == 0
    finally:
        db.dispose()


def test_other_errors_are_not_retried(db: Database) -> None:
    calls = 0

    def work(conn: Any) -> None:
        nonlocal calls
        calls += 1
        conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception, match="no_such_table"):
        db.run_write(work)
    assert calls == 1
