"""membership indexes for the filters (session_tui/data/filters/compile.py)

Every membership condition of a filter is an uncorrelated
`contact.id IN (SELECT contact_id FROM membership WHERE …)`; these indexes make
each such subquery one index range read, never a table scan:

- ix_membership_product_status widened to (product_id, cancelled_at, payment_type,
  expires_at, contact_id): "product X [and status …] [and payment …]" on the same
  membership, covering (still serves the per-product member counts of 0003).
- ix_membership_payment (payment_type, cancelled_at, expires_at, contact_id):
  payment type without a product.
- ix_membership_expires (expires_at, cancelled_at, contact_id): "expires within N days".

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# name -> columns, created in this order (ix_membership_product_status replaces the
# narrower index of 0003, PRODUCT_STATUS_BEFORE).
INDEXES = {
    "ix_membership_product_status": [
        "product_id",
        "cancelled_at",
        "payment_type",
        "expires_at",
        "contact_id",
    ],
    "ix_membership_payment": ["payment_type", "cancelled_at", "expires_at", "contact_id"],
    "ix_membership_expires": ["expires_at", "cancelled_at", "contact_id"],
}
PRODUCT_STATUS_BEFORE = ["product_id", "cancelled_at", "expires_at"]


def upgrade() -> None:
    op.drop_index("ix_membership_product_status", "membership")
    for name, columns in INDEXES.items():
        op.create_index(name, "membership", columns)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, "membership")
    op.create_index("ix_membership_product_status", "membership", PRODUCT_STATUS_BEFORE)
