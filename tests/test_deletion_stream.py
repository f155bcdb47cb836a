"""The backup stream and the read connections (SQLite + PostgreSQL): a delete
cancelled in the middle of its backup (PostgreSQL: in the middle of the COPY that
streams the lines) deletes nothing, leaves no file and no broken connection behind;
`Database.read()` hands back connections in their usual transactional mode."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from session_tui import locations
from session_tui.data.db import Database
from session_tui.data.deletion import DeletionCancelled, delete_contacts, restore_backup
from session_tui.data.deletion.set_delete import FETCH
from session_tui.data.tables import contact_t
from tests.helpers import add_contacts


def contacts(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(contact_t)).scalar_one())


def test_cancel_in_the_middle_of_the_backup_stream(db: Database) -> None:
    n = 3 * FETCH + 7
    ids = add_contacts(db, [(f"s{i}@example.com", f"S{i}", "Stream") for i in range(n)])
    polls: list[int] = []

    def cancelled() -> bool:
        polls.append(1)
        return len(polls) > 2  # two batches of lines written, then the user cancels

    progress: list[int] = []
    with pytest.raises(DeletionCancelled):
        delete_contacts(db, ids, cancelled=cancelled, progress=lambda d, _t: progress.append(d))
    assert progress == [FETCH, 2 * FETCH]
    assert contacts(db) == n
    assert list(locations.backups_dir().iterdir()) == []
    # Every pooled connection still works: the next delete and its undo go through.
    result = delete_contacts(db, ids[: FETCH + 1])
    assert result.contacts == FETCH + 1 and contacts(db) == n - FETCH - 1
    restore_backup(db, result.backup_path)
    assert contacts(db) == n


def test_read_connections_go_back_transactional(db: Database) -> None:
    ids = add_contacts(db, [("r@example.com", "R", "Read")])
    drivers = []
    for _ in range(3):
        with db.read() as conn:
            drivers.append(conn.connection.driver_connection)
            assert conn.execute(select(func.count()).select_from(contact_t)).scalar_one() == 1
            if db.dialect == "postgresql":
                assert conn.connection.driver_connection.autocommit is True
    if db.dialect == "postgresql":
        assert all(d.autocommit is False for d in drivers)
    # A failed write after the reads still rolls back as a whole.
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(text("UPDATE contact SET first_name = 'Changed' WHERE id = :i"), {"i": ids[0]})
        raise RuntimeError("abort")
    with db.read() as conn:
        name = conn.execute(select(contact_t.c.first_name).where(contact_t.c.id == ids[0]))
        assert name.scalar_one() == "R"
