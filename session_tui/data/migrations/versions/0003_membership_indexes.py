"""membership indexes for the Memberships screen and product member counts

- ix_membership_started (started_at, id, product_id, payment_type, cancelled_at,
  expires_at, contact_id): the Memberships screen's order (newest start first), covering
  every column its filters test, so paging skips rows inside the index without joins.
- ix_membership_product_status (product_id, cancelled_at, expires_at): active / total
  members per product, and "product X and status …" on the same membership.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_membership_started",
        "membership",
        [
            "started_at",
            "id",
            "product_id",
            "payment_type",
            "cancelled_at",
            "expires_at",
            "contact_id",
        ],
    )
    op.create_index(
        "ix_membership_product_status", "membership", ["product_id", "cancelled_at", "expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_membership_product_status", "membership")
    op.drop_index("ix_membership_started", "membership")
