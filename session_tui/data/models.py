"""The schema, one for SQLite and PostgreSQL.

All datetimes are naive UTC (`session_tui.data.clock.utcnow`).
The schema itself is created by the Alembic migrations in `migrations/`; these
tables must stay in step with them (tests/test_models_match_migrations.py compares
them with a migrated database on both backends).

Plain SQLAlchemy Core tables: the code reads and writes through them (`contact_t`
…) and never through ORM classes. They used to be declared as SQLModel classes,
which loaded pydantic and the SQLAlchemy ORM at every start (~0.3 s of the ~1.5 s
to the first paint) for nothing the code used (docs/decisions.md).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


class PaymentType(StrEnum):
    PAID = "paid"
    FREE = "free"
    COMPED = "comped"


class Status(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    NONE = "none"


class EventKind(StrEnum):
    GRANTED = "granted"
    REACTIVATED = "reactivated"
    EXTENDED = "extended"
    PAYMENT_CHANGED = "payment_changed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


metadata = MetaData()


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


contact_t = Table(
    "contact",
    metadata,
    _id(),
    Column("email", String(320), nullable=False, unique=True),
    Column("first_name", String(200), nullable=False, default=""),
    Column("last_name", String(200), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    # Denormalised status, maintained by the memberships repository: the moment
    # this contact stops being active (max over its memberships of
    # cancelled_at, else expires_at, else FAR_FUTURE). NULL = no membership.
    # status = none if NULL, active if > now, else expired.
    Column("active_until", DateTime, nullable=True),
    Index("ix_contact_name", "last_name", "first_name", "id"),
    Index("ix_contact_created", "created_at", "id"),
    Index("ix_contact_active_until", "active_until", "id"),
    sqlite_autoincrement=True,
)

# name unique ignoring case: index ux_product_name_lower on lower(name), created by the migration
product_t = Table(
    "product",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

membership_t = Table(
    "membership",
    metadata,
    _id(),
    Column("contact_id", Integer, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", Integer, ForeignKey("product.id", ondelete="RESTRICT"), nullable=False),
    Column("payment_type", String(10), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=True),
    Column("cancelled_at", DateTime, nullable=True),
    UniqueConstraint("contact_id", "product_id", name="ux_membership_contact_product"),
    Index("ix_membership_product", "product_id", "contact_id"),
    # 0003: the Memberships screen's order, covering its filters; product counts
    Index(
        "ix_membership_started", "started_at", "id", "product_id", "payment_type",
        "cancelled_at", "expires_at", "contact_id",
    ),
    # 0004 widened it (covering for filters); plus the filters' payment and expiry reads
    Index(
        "ix_membership_product_status", "product_id", "cancelled_at", "payment_type",
        "expires_at", "contact_id",
    ),
    Index("ix_membership_payment", "payment_type", "cancelled_at", "expires_at", "contact_id"),
    Index("ix_membership_expires", "expires_at", "cancelled_at", "contact_id"),
    sqlite_autoincrement=True,
)

event_t = Table(
    "membership_event",
    metadata,
    _id(),
    Column(
        "membership_id",
        Integer,
        ForeignKey("membership.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", DateTime, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("actor", String(200), nullable=False, default=""),
    Index("ix_event_membership", "membership_id", "at"),
    sqlite_autoincrement=True,
)

# name unique ignoring case: index ux_segment_name_lower on lower(name), created by the migration
segment_t = Table(
    "segment",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("filter", Text, nullable=False),  # JSON of session_tui.data.filters.ast
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
