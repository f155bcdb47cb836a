"""The values the schema's text columns hold: payment types, statuses, event kinds.

Plain enums, shared by the SQLModel classes (data/models.py), the Core tables the code
uses (data/tables.py) and every screen and command that shows or parses them.
"""

from __future__ import annotations

from enum import StrEnum


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
