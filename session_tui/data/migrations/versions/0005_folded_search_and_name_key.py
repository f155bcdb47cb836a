"""accent-insensitive search and alphabetical sort: contact.search_text, contact.name_key

- `search_text`: the folded name and email (session_tui/data/collation.py). The search
  index covers it instead of the raw columns: SQLite's FTS5 trigram table is rebuilt
  over it (SQLite 3.40's trigram tokenizer cannot drop accents itself), PostgreSQL's
  pg_trgm index moves from lower(first || ' ' || last || chr(31) || email) to it.
- `name_key`: the UCA sort key of (last, first) as bytes; ix_contact_name_key
  (name_key, id) serves the name order and replaces ix_contact_name.

Both are computed in Python for the existing contacts, in batches.

Revision ID: 0005
Revises: 0004
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from session_tui.data.collation import name_key, search_text
from session_tui.data.migrations import search_index

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 5000


def _backfill(bind: Any) -> None:
    """Compute both columns for every contact, BATCH contacts per statement, by id."""
    sqlite = bind.dialect.name == "sqlite"
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, first_name, last_name, email FROM contact "
                "WHERE id > :after ORDER BY id LIMIT :n"
            ),
            {"after": last_id, "n": BATCH},
        ).all()
        if not rows:
            return
        last_id = rows[-1][0]
        values = [
            (name_key(first, last), search_text(first, last, email), cid)
            for cid, first, last, email in rows
        ]
        cursor = bind.connection.driver_connection.cursor()
        try:
            if sqlite:
                cursor.executemany(
                    "UPDATE contact SET name_key = ?, search_text = ? WHERE id = ?", values
                )
            else:
                cursor.execute(
                    "UPDATE contact SET name_key = t.k, search_text = t.s "
                    "FROM unnest(%s::bytea[], %s::text[], %s::int[]) AS t(k, s, i) "
                    "WHERE contact.id = t.i",
                    ([v[0] for v in values], [v[1] for v in values], [v[2] for v in values]),
                )
        finally:
            cursor.close()


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    empty_bytes = sa.text("x''") if sqlite else sa.text("'\\x'::bytea")
    op.add_column(
        "contact",
        sa.Column("name_key", sa.LargeBinary, nullable=False, server_default=empty_bytes),
    )
    op.add_column("contact", sa.Column("search_text", sa.Text, nullable=False, server_default=""))
    search_index.drop()  # rebuilt below, over the new column, once it is filled
    _backfill(bind)
    op.drop_index("ix_contact_name", "contact")
    op.create_index("ix_contact_name_key", "contact", ["name_key", "id"])
    search_index.create(search_index.FOLDED)


def downgrade() -> None:
    search_index.drop()
    op.drop_index("ix_contact_name_key", "contact")
    op.create_index("ix_contact_name", "contact", ["last_name", "first_name", "id"])
    op.drop_column("contact", "search_text")
    op.drop_column("contact", "name_key")
    search_index.create(search_index.RAW)
