"""denormalised contact status (active_until) and substring-search indexes

SQLite: an FTS5 table with the trigram tokenizer, kept in sync by triggers.
PostgreSQL: pg_trgm GIN index on lower(first || ' ' || last || chr(31) || email).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from session_tui.data.migrations import search_index

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FAR_FUTURE = "9999-12-31 00:00:00.000000"


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("contact", sa.Column("active_until", sa.DateTime, nullable=True))
    op.create_index("ix_contact_active_until", "contact", ["active_until", "id"])
    # Back-fill from existing memberships.
    if bind.dialect.name == "sqlite":
        end = f"coalesce(m.cancelled_at, m.expires_at, '{FAR_FUTURE}')"
    else:
        end = "coalesce(m.cancelled_at, m.expires_at, timestamp '9999-12-31')"
    op.execute(
        "UPDATE contact SET active_until = "
        f"(SELECT max({end}) FROM membership m WHERE m.contact_id = contact.id)"
    )
    if bind.dialect.name != "sqlite":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    search_index.create(search_index.RAW)


def downgrade() -> None:
    search_index.drop()
    op.drop_index("ix_contact_active_until", "contact")
    op.drop_column("contact", "active_until")
