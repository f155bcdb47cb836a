"""The bulk paths (import, demo, delete, restore) keep SQLite's search index in
step with the contacts although they pause its per-row triggers: afterwards the
index matches the table exactly, the triggers are the ones in data/fts.py, and the
pooled connection has its normal settings back. A failed bulk write leaves all of
that as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from session_tui.data import fts
from session_tui.data.csvio import import_csv
from session_tui.data.db import Database
from session_tui.data.deletion import delete_contacts, restore_backup
from session_tui.data.demo import generate_demo
from session_tui.data.sqlite_bulk import (
    DELETE,
    INDEX_SQL,
    INSERT,
    UNINDEX_SQL,
    UPDATE,
    bulk_write,
)
from tests.helpers import add_contacts


def check_search_index(db: Database) -> None:
    """FTS5 compares the whole index with the contact table (raises if they differ),
    and the three triggers are exactly data/fts.py's."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql(
            "INSERT INTO contact_fts(contact_fts, rank) VALUES ('integrity-check', 1)"
        )
        triggers = sorted(
            conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'contact_fts_%'"
            ).scalars()
        )
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        temp_store = conn.exec_driver_sql("PRAGMA temp_store").scalar()
    assert triggers == sorted(fts.FTS_TRIGGERS)
    assert cache == -16384  # the app's own setting, back on the pooled connection
    # Delete and restore keep their statement journals in a file (temp_store = FILE);
    # the pooled connection is back to the app's MEMORY (2) afterwards.
    assert temp_store == 2


def found(db: Database, term: str) -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT c.email FROM contact_fts JOIN contact c ON c.id = contact_fts.rowid "
                "WHERE contact_fts MATCH ? ORDER BY c.email",
                (f'"{term}"',),
            ).scalars()
        )


def test_the_bulk_statements_index_what_the_triggers_index() -> None:
    insert_trigger = next(t for t in fts.FTS_TRIGGERS if f"TRIGGER {INSERT} " in t)
    delete_trigger = next(t for t in fts.FTS_TRIGGERS if f"TRIGGER {DELETE} " in t)
    assert INDEX_SQL.startswith("INSERT INTO contact_fts(")
    assert INDEX_SQL.split(" SELECT ")[0] in insert_trigger
    assert UNINDEX_SQL.split(" SELECT ")[0] in delete_trigger
    assert "new." not in INDEX_SQL and "old." not in UNINDEX_SQL


def test_import_then_delete_then_restore_keep_the_index_exact(
    sqlite_db: Database, tmp_path: Path
) -> None:
    csv_file = tmp_path / "people.csv"
    rows = [f"person{i}@example.org,Zélie{i},Quarrington" for i in range(1_200)]
    csv_file.write_text("email,first_name,last_name\n" + "\n".join(rows) + "\n")
    before = add_contacts(sqlite_db, [("ann@example.org", "Ann", "Able")])

    report = import_csv(sqlite_db, csv_file)
    assert report.added == 1_200
    check_search_index(sqlite_db)
    assert len(found(sqlite_db, "quarrington")) == 1_200

    ids = [i for i in range(before[0] + 1, before[0] + 1_201)]
    deleted = delete_contacts(sqlite_db, ids[:700])
    assert deleted.contacts == 700
    check_search_index(sqlite_db)
    assert len(found(sqlite_db, "quarrington")) == 500

    restored = restore_backup(sqlite_db, deleted.backup_path)
    assert restored.contacts == 700
    check_search_index(sqlite_db)
    assert len(found(sqlite_db, "quarrington")) == 1_200
    assert found(sqlite_db, "ann@ex") == ["ann@example.org"]


def test_a_dry_run_and_the_demo_keep_the_index_exact(sqlite_db: Database, tmp_path: Path) -> None:
    csv_file = tmp_path / "one.csv"
    csv_file.write_text("email,name\nbo@example.org,Bo Quist\n")
    import_csv(sqlite_db, csv_file, dry_run=True)
    check_search_index(sqlite_db)
    assert found(sqlite_db, "quist") == []

    summary = generate_demo(sqlite_db, 300, seed=3)
    assert summary.contacts == 300
    check_search_index(sqlite_db)
    with sqlite_db.engine.connect() as conn:
        email = conn.exec_driver_sql("SELECT email FROM contact ORDER BY id LIMIT 1").scalar_one()
    assert found(sqlite_db, email) == [email]


def test_a_failed_bulk_write_leaves_triggers_index_and_settings(sqlite_db: Database) -> None:
    add_contacts(sqlite_db, [("cy@example.org", "Cy", "Cole")])
    with pytest.raises(RuntimeError), bulk_write(sqlite_db, pause=(INSERT, DELETE, UPDATE)) as bulk:
        bulk.conn.exec_driver_sql(
            "INSERT INTO contact (email, first_name, last_name, created_at, updated_at, version) "
            "VALUES ('dee@example.org', 'Dee', 'Dunn', '2026-01-01', '2026-01-01', 1)"
        )
        raise RuntimeError("stop before the commit")
    check_search_index(sqlite_db)
    assert found(sqlite_db, "dunn") == [] and found(sqlite_db, "cole") == ["cy@example.org"]

    with bulk_write(sqlite_db, pause=(INSERT,)) as bulk:
        bulk.conn.exec_driver_sql(
            "INSERT INTO contact (email, first_name, last_name, created_at, updated_at, version) "
            "VALUES ('dee@example.org', 'Dee', 'Dunn', '2026-01-01', '2026-01-01', 1)"
        )
        # Left without commit(): nothing is written.
    check_search_index(sqlite_db)
    assert found(sqlite_db, "dunn") == []


def test_one_idle_connection_stays_after_reads_beside_a_bulk_write(sqlite_db: Database) -> None:
    """A read made while a bulk write holds a connection opens a second one; of the
    two, ONE stays open when both are back (its page cache is the only one kept),
    with the app's settings."""
    add_contacts(sqlite_db, [("ed@example.org", "Ed", "Eng")])
    pool = sqlite_db.engine.pool
    with bulk_write(sqlite_db) as bulk:
        with sqlite_db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM contact").scalar_one() == 1
        bulk.conn.exec_driver_sql("DELETE FROM contact")
        bulk.commit()
    assert pool.checkedout() == 0 and pool.checkedin() == 1  # type: ignore[attr-defined]
    with sqlite_db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM contact").scalar_one() == 0
    check_search_index(sqlite_db)
