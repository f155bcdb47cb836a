"""drop ix_membership_product: every query it served has a better index

(product_id, contact_id) duplicated the leading columns of two indexes that stay:
- a product's memberships and the per-product counts read the covering
  ix_membership_product_status (product_id, cancelled_at, payment_type,
  expires_at, contact_id);
- one contact's membership of a product reads ux_membership_contact_product
  (contact_id, product_id).
Each deleted, imported or changed membership now updates one b-tree fewer.
docs/performance.md lists, with EXPLAIN QUERY PLAN, the query each kept index serves.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_membership_product", "membership")


def downgrade() -> None:
    op.create_index("ix_membership_product", "membership", ["product_id", "contact_id"])
