"""initial schema: contact, product, membership, membership_event, segment

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _reference(name: str, target: str, *, ondelete: str) -> sa.Column[int]:
    """A required integer column referencing `target` ("table.id")."""
    return sa.Column(name, sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=False)


# SQLite: AUTOINCREMENT on the tables whose rows can be deleted and restored, so
# that a deleted id is never handed to a new row (undo/restore puts rows back with
# their own ids). PostgreSQL sequences never reuse ids anyway.


def upgrade() -> None:
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("first_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("last_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_contact_name", "contact", ["last_name", "first_name", "id"])
    op.create_index("ix_contact_created", "contact", ["created_at", "id"])
    op.create_table(
        "product",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ux_product_name_lower", "product", [sa.text("lower(name)")], unique=True)
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer, primary_key=True),
        _reference("contact_id", "contact.id", ondelete="CASCADE"),
        _reference("product_id", "product.id", ondelete="RESTRICT"),
        sa.Column("payment_type", sa.String(10), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("cancelled_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("contact_id", "product_id", name="ux_membership_contact_product"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_membership_product", "membership", ["product_id", "contact_id"])
    op.create_table(
        "membership_event",
        sa.Column("id", sa.Integer, primary_key=True),
        _reference("membership_id", "membership.id", ondelete="CASCADE"),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.String(200), nullable=False, server_default=""),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_event_membership", "membership_event", ["membership_id", "at"])
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("filter", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ux_segment_name_lower", "segment", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    for table in ("segment", "membership_event", "membership", "product", "contact"):
        op.drop_table(table)
