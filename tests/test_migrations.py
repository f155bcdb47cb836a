"""Migrations build the schema and upgrade a filled database in place without losing rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect, text

from session_tui.data.db import Database, make_engine, open_database
from session_tui.data.migrate import current_revision, upgrade
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.tables import Status

OLDEST = "0001"


def test_upgrade_from_oldest_keeps_every_row(db_url: str) -> None:
    db = Database(db_url, make_engine(db_url))
    try:
        upgrade(db, OLDEST)
        assert current_revision(db) == OLDEST
        t = datetime(2025, 5, 1, 9, 30)
        with db.engine.begin() as conn:
            for i in range(50):
                conn.execute(
                    text(
                        "INSERT INTO contact (email, first_name, last_name, created_at, "
                        "updated_at, version) VALUES (:e, :f, :l, :t, :t, 1)"
                    ),
                    {"e": f"person{i}@example.com", "f": f"Zoë{i}", "l": "Ngata", "t": t},
                )
            conn.execute(
                text(
                    "INSERT INTO product (name, archived, created_at) VALUES ('Course', false, :t)"
                ),
                {"t": t},
            )
            conn.execute(
                text(
                    "INSERT INTO membership (contact_id, product_id, payment_type, started_at) "
                    "SELECT id, (SELECT id FROM product), 'paid', :t FROM contact "
                    "WHERE email = 'person3@example.com'"
                ),
                {"t": t},
            )
        upgrade(db)  # to head
        assert current_revision(db) != OLDEST
        repo = ContactsRepository(db)
        assert repo.total() == 50
        assert repo.count(ContactQuery(search="zoë1")) == 11  # search index back-filled
        row = repo.get_by_email("person3@example.com")
        assert row is not None and row.status is Status.ACTIVE  # active_until back-filled
        other = repo.get_by_email("person4@example.com")
        assert other is not None and other.status is Status.NONE
    finally:
        db.dispose()


def test_open_creates_schema_and_is_idempotent(db_url: str) -> None:
    first = open_database(db_url)
    first.dispose()
    again = open_database(db_url)  # second open: migrations are a no-op
    try:
        tables = set(inspect(again.engine).get_table_names())
        assert {"contact", "product", "membership", "membership_event", "segment"} <= tables
    finally:
        again.dispose()
