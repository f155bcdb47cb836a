"""The filter model: conditions combined in groups (AND / OR), one level of nesting.

A filter is a root `Group`. Its items are `Condition`s and nested `Group`s whose
items are only conditions. Every `Condition` is valid by construction: its value
is checked and canonicalised in `__post_init__` (a bad value raises
`FilterValueError`), so code that receives a filter never has to re-check it.

Fields and their operators (`Op`):

| field     | ops                                         | value                              |
|-----------|---------------------------------------------|------------------------------------|
| product   | is, is_not                                  | product name (matched ignoring case) |
| status    | is                                          | active, expired, none, all         |
| payment   | is                                          | paid, free, comped                 |
| search    | contains, not_contains                      | text (substring, ignoring case)    |
| joined    | before, on_or_before, on, on_or_after, after | date YYYY-MM-DD (UTC day)          |
| expires   | within                                      | days, 0..36500                     |
| domain    | is, is_not                                  | email domain, e.g. gmail.com       |

This module holds the conditions, their fields and operators; `ast.py` the groups.
Semantics (what SQL the filter compiles to) are in `compile.py`; the text form
is in `text.py` (printing: `printing.py`); JSON for segments in `serialize.py`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from session_tui.data.validation import strip_controls

# What the package offers (through ast.py); `GroupLike` is for the modules that
# read groups without importing ast.py.
__all__ = [
    "FIELD_LABELS",
    "FIELD_OPS",
    "MAX_DATE",
    "MAX_DAYS",
    "MAX_VALUE",
    "MIN_DATE",
    "NEGATIONS",
    "OP_LABELS",
    "PAYMENT_VALUES",
    "STATUS_VALUES",
    "Condition",
    "FieldName",
    "FilterError",
    "FilterValueError",
    "Mode",
    "Op",
    "canonical_value",
    "parse_day",
    "parse_days",
]

MAX_DAYS = 36500
MAX_VALUE = 200
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9998, 12, 31)


class FilterError(ValueError):
    """A filter is not acceptable; the message is for the user."""


class FilterValueError(FilterError):
    """A condition's value is not acceptable for its field."""


class FieldName(StrEnum):
    PRODUCT = "product"
    STATUS = "status"
    PAYMENT = "payment"
    SEARCH = "search"
    JOINED = "joined"
    EXPIRES = "expires"
    DOMAIN = "domain"


class Op(StrEnum):
    IS = "is"
    IS_NOT = "is_not"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    BEFORE = "before"  # joined < day
    ON_OR_BEFORE = "on_or_before"  # joined <= day
    ON = "on"  # joined on that day
    ON_OR_AFTER = "on_or_after"  # joined >= day
    AFTER = "after"  # joined > day
    WITHIN = "within"  # expires within N days


class Mode(StrEnum):
    AND = "and"
    OR = "or"


STATUS_VALUES = ("active", "expired", "none", "all")
PAYMENT_VALUES = ("paid", "free", "comped")

# The operators each field accepts, the first one being the default.
FIELD_OPS: dict[FieldName, tuple[Op, ...]] = {
    FieldName.PRODUCT: (Op.IS, Op.IS_NOT),
    FieldName.STATUS: (Op.IS,),
    FieldName.PAYMENT: (Op.IS,),
    FieldName.SEARCH: (Op.CONTAINS, Op.NOT_CONTAINS),
    FieldName.JOINED: (Op.ON_OR_AFTER, Op.AFTER, Op.BEFORE, Op.ON_OR_BEFORE, Op.ON),
    FieldName.EXPIRES: (Op.WITHIN,),
    FieldName.DOMAIN: (Op.IS, Op.IS_NOT),
}

# The negated operator of a field (`not product:X`), where one exists.
NEGATIONS: dict[tuple[FieldName, Op], Op] = {
    (FieldName.PRODUCT, Op.IS): Op.IS_NOT,
    (FieldName.SEARCH, Op.CONTAINS): Op.NOT_CONTAINS,
    (FieldName.DOMAIN, Op.IS): Op.IS_NOT,
}

# Labels for pickers (the UI) and messages.
FIELD_LABELS: dict[FieldName, str] = {
    FieldName.PRODUCT: "product",
    FieldName.STATUS: "status",
    FieldName.PAYMENT: "payment type",
    FieldName.SEARCH: "search",
    FieldName.JOINED: "joined",
    FieldName.EXPIRES: "expires within",
    FieldName.DOMAIN: "email domain",
}
OP_LABELS: dict[Op, str] = {
    Op.IS: "is",
    Op.IS_NOT: "is not",
    Op.CONTAINS: "contains",
    Op.NOT_CONTAINS: "does not contain",
    Op.BEFORE: "before",
    Op.ON_OR_BEFORE: "on or before",
    Op.ON: "on",
    Op.ON_OR_AFTER: "on or after",
    Op.AFTER: "after",
    Op.WITHIN: "days from now",
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAYS = re.compile(r"^(\d{1,6})d?$", re.IGNORECASE)
_DOMAIN_BAD = re.compile(r"[\s@\"(),;:<>\[\]\\]")


def _clean_text(value: str) -> str:
    return " ".join(strip_controls(unicodedata.normalize("NFC", value)).split())


def parse_day(text: str) -> date:
    """A filter date: exactly YYYY-MM-DD, 1900-01-01..9998-12-31."""
    text = text.strip()
    if not _DATE.match(text):
        raise FilterValueError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-31")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FilterValueError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-31") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise FilterValueError(f"{text} is out of range (1900-01-01 to 9998-12-31)")
    return day


def parse_days(text: str) -> int:
    """`30`, `30d` -> 30 (0..MAX_DAYS)."""
    m = _DAYS.match(text.strip())
    if not m:
        raise FilterValueError(f"{text!r} is not a number of days; use e.g. 30d")
    days = int(m.group(1))
    if days > MAX_DAYS:
        raise FilterValueError(f"{days} days is too far ahead (at most {MAX_DAYS})")
    return days


def canonical_value(fld: FieldName, op: Op, value: str) -> str:
    """The canonical form of `value` for `fld`; raises FilterValueError when invalid."""
    if not isinstance(value, str):
        raise FilterValueError(f"the value of {fld.value} must be text")
    if op not in FIELD_OPS[fld]:
        allowed = ", ".join(o.value for o in FIELD_OPS[fld])
        raise FilterValueError(f"{fld.value} cannot use {op.value!r} (it takes {allowed})")
    label = FIELD_LABELS[fld]
    if fld is FieldName.STATUS or fld is FieldName.PAYMENT:
        allowed_values = STATUS_VALUES if fld is FieldName.STATUS else PAYMENT_VALUES
        v = value.strip().lower()
        if v not in allowed_values:
            shown = ", ".join(allowed_values[:-1]) + " or " + allowed_values[-1]
            raise FilterValueError(f"{label} is {shown}, not {strip_controls(value)!r}")
        return v
    if fld is FieldName.JOINED:
        return parse_day(value).isoformat()
    if fld is FieldName.EXPIRES:
        return str(parse_days(value))
    if fld is FieldName.DOMAIN:
        v = _clean_text(value).lower().lstrip("@")
        if not v:
            raise FilterValueError("the email domain is empty")
        if _DOMAIN_BAD.search(v) or len(v) > 255:
            raise FilterValueError(f"{strip_controls(value)!r} is not an email domain")
        return v
    v = _clean_text(value)
    if not v:
        raise FilterValueError(f"the {label} value is empty")
    if len(v) > MAX_VALUE:
        raise FilterValueError(f"the {label} value is longer than {MAX_VALUE} characters")
    return v


@dataclass(frozen=True)
class Condition:
    """One condition: `field op value` (value canonicalised on construction)."""

    field: FieldName
    op: Op
    value: str

    def __post_init__(self) -> None:
        try:
            fld = FieldName(self.field)
            op = Op(self.op)
        except ValueError as exc:
            raise FilterValueError(str(exc)) from None
        object.__setattr__(self, "field", fld)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "value", canonical_value(fld, op, self.value))

    @property
    def is_membership(self) -> bool:
        """product is, status, payment: the conditions that can describe one membership."""
        return (self.field is FieldName.PRODUCT and self.op is Op.IS) or self.field in (
            FieldName.STATUS,
            FieldName.PAYMENT,
        )


class GroupLike(Protocol):
    """What compiling and printing read of a group (`ast.Group`), so that they need
    not import the module that defines it (which calls them)."""

    @property
    def mode(self) -> Mode: ...

    @property
    def items(self) -> tuple[Condition | GroupLike, ...]: ...

    def conditions(self) -> list[Condition]: ...

    def normalized(self) -> GroupLike: ...
