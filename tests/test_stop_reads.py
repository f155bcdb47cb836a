"""`db.stop_reads`: another thread interrupts a SQLite read whose result nobody wants
any more (the table does it when a newer search supersedes one still counting), and
never a read that starts afterwards on the same pooled connection."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy.exc import OperationalError

from session_tui.data.db import Database, ReadsStopped, allow_reads, stop_reads
from session_tui.data.tables import contact_t

JOINED = datetime(2025, 3, 1, 12)
# A read of minutes if nothing stops it (a recursive count to three billion).
LONG_READ = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000000) "
    "SELECT count(*) FROM n"
)


def _seed(db: Database, n: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            contact_t.insert(),
            [
                {
                    "email": f"p{i}@example.com",
                    "first_name": f"P{i}",
                    "version": 1,
                    "created_at": JOINED,
                    "updated_at": JOINED,
                }
                for i in range(n)
            ],
        )


def test_a_read_in_another_thread_is_interrupted_and_the_next_read_is_whole(
    sqlite_db: Database,
) -> None:
    db = sqlite_db
    _seed(db, 25)
    started = threading.Event()
    outcome: list[BaseException | int] = []

    def long_read() -> None:
        try:
            with db.read() as conn:
                started.set()
                outcome.append(int(conn.exec_driver_sql(LONG_READ).scalar_one()))
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            outcome.append(exc)

    reader = threading.Thread(target=long_read)
    reader.start()
    assert started.wait(10)
    assert reader.ident is not None
    # The statement may not have begun the instant `started` is set: interrupt until
    # the reader has given up (an interrupt that finds no statement is forgotten).
    deadline = time.monotonic() + 30
    while reader.is_alive() and time.monotonic() < deadline:
        stop_reads(reader.ident)
        reader.join(0.05)
    assert not reader.is_alive(), "the read was not interrupted"
    assert len(outcome) == 1 and isinstance(outcome[0], OperationalError)
    assert "interrupted" in str(outcome[0])
    allow_reads(reader.ident)
    # The connection went back to the pool; the next read on it runs to the end.
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM contact").scalar_one() == 25


def test_stopping_a_thread_that_is_not_reading_changes_nothing(sqlite_db: Database) -> None:
    db = sqlite_db
    _seed(db, 3)
    idle = threading.Thread(target=lambda: None)
    idle.start()
    idle.join()
    assert idle.ident is not None
    assert stop_reads(idle.ident) is False
    allow_reads(idle.ident)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM contact").scalar_one() == 3


def test_a_stopped_thread_reads_again_only_when_allowed(sqlite_db: Database) -> None:
    """A stop asked while the read's statement is between rows interrupts the rest of
    it; a read the thread begins afterwards is refused until `allow_reads`."""
    db = sqlite_db
    _seed(db, 3)
    me = threading.get_ident()
    with db.read() as conn:
        result = conn.exec_driver_sql("SELECT id FROM contact ORDER BY id")
        first = result.fetchone()
        assert first is not None
        assert stop_reads(me) is True
        with pytest.raises(OperationalError, match="interrupted"):
            result.fetchall()
    try:
        # A read the stopped thread begins afterwards is refused at once...
        with pytest.raises(ReadsStopped), db.read():
            pytest.fail("a stopped thread began a read")
    finally:
        allow_reads(me)
    # ... until it may read again: then it reads as before.
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM contact").scalar_one() == 3
    assert stop_reads(me) is False  # nothing of this thread is reading now
    allow_reads(me)
