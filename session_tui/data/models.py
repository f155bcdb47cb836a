"""The schema, one for SQLite and PostgreSQL: the SQLModel classes it is declared in.

All datetimes are naive UTC (`session_tui.data.clock.utcnow`).
The schema itself is created by the Alembic migrations in `migrations/`; these
models must stay in step with them (tests/test_models_match_migrations.py compares
them with a migrated database on both backends, types included).

The code reads and writes through the Core tables of these classes, which
`python -m session_tui.tools.gen_tables` writes out as `data/tables.py`: the app and
the commands import that module, not this one, so that a start does not load
SQLModel, pydantic and SQLAlchemy's ORM (about a third of the time to the first
paint, docs/performance.md). Whoever changes a class here runs the tool;
tests/test_tables_generated.py fails until they do.
"""

from __future__ import annotations

from pydantic import NaiveDatetime
from sqlalchemy import (
    Column,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from session_tui.data.column_defaults import name_key_default, search_text_default
from session_tui.data.enums import EventKind, PaymentType, Status

__all__ = [
    "Contact",
    "EventKind",
    "Membership",
    "MembershipEvent",
    "PaymentType",
    "Product",
    "Segment",
    "Status",
    "contact_t",
    "event_t",
    "membership_t",
    "metadata",
    "product_t",
    "segment_t",
]


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (
        # The alphabetical order: by name_key, id as the tie-break.
        Index("ix_contact_name_key", "name_key", "id"),
        Index("ix_contact_created", "created_at", "id"),
        Index("ix_contact_active_until", "active_until", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, nullable=False)
    first_name: str = Field(default="", max_length=200, nullable=False)
    last_name: str = Field(default="", max_length=200, nullable=False)
    created_at: NaiveDatetime = Field(nullable=False)
    updated_at: NaiveDatetime = Field(nullable=False)
    version: int = Field(default=1, nullable=False)
    # Denormalised status, maintained by the memberships repository: the moment
    # this contact stops being active (max over its memberships of
    # cancelled_at, else expires_at, else FAR_FUTURE). NULL = no membership.
    # status = none if NULL, active if > now, else expired.
    active_until: NaiveDatetime | None = Field(default=None, nullable=True)
    # Derived from the names and email (data/collation.py): the UCA sort key of
    # (last, first) and the accent- and case-folded text search looks in. A Core
    # insert that does not give them gets them computed from its own values (the
    # defaults); raw bulk writers and every UPDATE of the names or email pass them.
    # The server default only serves the migration that added them.
    name_key: bytes = Field(
        default=b"",
        sa_column=Column(
            LargeBinary, nullable=False, default=name_key_default, server_default=FetchedValue()
        ),
    )
    search_text: str = Field(
        default="",
        sa_column=Column(
            Text, nullable=False, default=search_text_default, server_default=FetchedValue()
        ),
    )


class Product(SQLModel, table=True):
    __tablename__ = "product"
    # unique ignoring case: index ux_product_name_lower on lower(name), created by the migration

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, nullable=False)
    archived: bool = Field(default=False, nullable=False)
    created_at: NaiveDatetime = Field(nullable=False)


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("contact_id", "product_id", name="ux_membership_contact_product"),
        # The Memberships screen's order, covering its filters (migration 0003)
        Index(
            "ix_membership_started",
            "started_at",
            "id",
            "product_id",
            "payment_type",
            "cancelled_at",
            "expires_at",
            "contact_id",
        ),
        # A product's memberships, its counts and the product filters, covering (0004);
        # it also serves what ix_membership_product (dropped in 0006) did
        Index(
            "ix_membership_product_status",
            "product_id",
            "cancelled_at",
            "payment_type",
            "expires_at",
            "contact_id",
        ),
        # The filters' payment and expiry reads (0004)
        Index("ix_membership_payment", "payment_type", "cancelled_at", "expires_at", "contact_id"),
        Index("ix_membership_expires", "expires_at", "cancelled_at", "contact_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(
        sa_column=Column(Integer, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False)
    )
    product_id: int = Field(
        sa_column=Column(Integer, ForeignKey("product.id", ondelete="RESTRICT"), nullable=False)
    )
    payment_type: str = Field(max_length=10, nullable=False)
    started_at: NaiveDatetime = Field(nullable=False)
    expires_at: NaiveDatetime | None = Field(default=None, nullable=True)
    cancelled_at: NaiveDatetime | None = Field(default=None, nullable=True)


class MembershipEvent(SQLModel, table=True):
    __tablename__ = "membership_event"
    __table_args__ = (
        Index("ix_event_membership", "membership_id", "at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    membership_id: int = Field(
        sa_column=Column(Integer, ForeignKey("membership.id", ondelete="CASCADE"), nullable=False)
    )
    at: NaiveDatetime = Field(nullable=False)
    kind: str = Field(max_length=20, nullable=False)
    detail: str = Field(default="", sa_type=Text, nullable=False)
    actor: str = Field(default="", max_length=200, nullable=False)


class Segment(SQLModel, table=True):
    __tablename__ = "segment"
    # unique ignoring case: index ux_segment_name_lower on lower(name), created by the migration

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, nullable=False)
    filter: str = Field(sa_type=Text, nullable=False)  # JSON of session_tui.data.filters.ast
    created_at: NaiveDatetime = Field(nullable=False)
    updated_at: NaiveDatetime = Field(nullable=False)


metadata = SQLModel.metadata

# The Core tables, typed (the bulk paths and the repositories build SQL on them).
contact_t: Table = metadata.tables[Contact.__tablename__]
product_t: Table = metadata.tables[Product.__tablename__]
membership_t: Table = metadata.tables[Membership.__tablename__]
event_t: Table = metadata.tables[MembershipEvent.__tablename__]
segment_t: Table = metadata.tables[Segment.__tablename__]
