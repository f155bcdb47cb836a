"""A straightforward Python evaluation of a filter over in-memory data (the test oracle).

Written independently of compile.py, from the semantics documented in the README
("Filters and segments"): loops over plain Python objects, no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from session_tui.data.filters import Condition, FieldName, Group, Mode, Op, normalize
from session_tui.data.filters.ast import parse_day
from session_tui.data.search import normalize_term


@dataclass
class M:
    product: str
    payment: str
    expires_at: datetime | None = None
    cancelled_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.cancelled_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass
class C:
    email: str
    first: str
    last: str
    created_at: datetime
    memberships: list[M] = field(default_factory=list)

    def status(self, now: datetime) -> str:
        if not self.memberships:
            return "none"
        return "active" if any(m.active(now) for m in self.memberships) else "expired"

    def membership_of(self, product: str) -> M | None:
        for m in self.memberships:
            if m.product.lower() == product.lower():
                return m
        return None


def _alone(cond: Condition, c: C, now: datetime) -> bool:
    f, op, v = cond.field, cond.op, cond.value
    if f is FieldName.PRODUCT:
        has = c.membership_of(v) is not None
        return has if op is Op.IS else not has
    if f is FieldName.STATUS:
        return v == "all" or c.status(now) == v
    if f is FieldName.PAYMENT:
        return any(m.payment == v for m in c.memberships)
    if f is FieldName.SEARCH:
        term = normalize_term(v)
        hit = term in f"{c.first} {c.last}".lower() or term in c.email.lower()
        return hit if op is Op.CONTAINS else not hit
    if f is FieldName.JOINED:
        d = parse_day(v)
        day = c.created_at.date()
        return {
            Op.BEFORE: day < d,
            Op.ON_OR_BEFORE: day <= d,
            Op.ON: day == d,
            Op.ON_OR_AFTER: day >= d,
            Op.AFTER: day > d,
        }[op]
    if f is FieldName.EXPIRES:
        until = now + timedelta(days=int(v))
        return any(
            m.cancelled_at is None and m.expires_at is not None and now < m.expires_at <= until
            for m in c.memberships
        )
    domain = c.email.split("@", 1)[1] if "@" in c.email else c.email
    return (domain == v) if op is Op.IS else (domain != v)


def _atom(cond: Condition, slot: M | None, now: datetime) -> bool:
    """A status/payment condition on one membership (None = "no such membership")."""
    if cond.field is FieldName.PAYMENT:
        return slot is not None and slot.payment == cond.value
    if cond.value == "all":
        return True
    if slot is None:
        return cond.value == "none"
    if cond.value == "none":
        return False
    return slot.active(now) == (cond.value == "active")


def _scope(conds: list[Condition], alts: list[list[Condition]], c: C, now: datetime) -> bool:
    products = [x.value for x in conds if x.field is FieldName.PRODUCT and x.op is Op.IS]
    member = [x for x in conds if x.field in (FieldName.STATUS, FieldName.PAYMENT)]
    rest = [
        x for x in conds if not (x in member or (x.field is FieldName.PRODUCT and x.op is Op.IS))
    ]
    if not all(_alone(x, c, now) for x in rest):
        return False
    bound = products or any(x.field is FieldName.PAYMENT for x in member)
    if not bound:
        return all(_alone(x, c, now) for x in member) and all(
            any(_alone(a, c, now) for a in alt) for alt in alts
        )
    mentions_none = any(x.field is FieldName.STATUS and x.value == "none" for x in member) or any(
        a.field is FieldName.STATUS and a.value == "none" for alt in alts for a in alt
    )

    def fits(slot: M | None) -> bool:
        if slot is None and not mentions_none:
            return False
        return all(_atom(x, slot, now) for x in member) and all(
            any(_atom(a, slot, now) for a in alt) for alt in alts
        )

    if products:
        return all(fits(c.membership_of(p)) for p in products)
    slots: list[M | None] = list(c.memberships) or [None]
    return any(fits(s) for s in slots)


def matches(group: Group, c: C, now: datetime) -> bool:
    g = normalize(group)
    if not g.items:
        return True
    if g.mode is Mode.OR:
        for item in g.items:
            if isinstance(item, Condition):
                if _alone(item, c, now):
                    return True
            elif item.mode is Mode.OR:
                if any(_alone(x, c, now) for x in item.conditions()):
                    return True
            elif _scope(item.conditions(), [], c, now):
                return True
        return False
    conds: list[Condition] = []
    alts: list[list[Condition]] = []
    loose: list[list[Condition]] = []
    for item in g.items:
        if isinstance(item, Condition):
            conds.append(item)
        elif item.mode is Mode.AND:
            conds.extend(item.conditions())
        elif all(x.field in (FieldName.STATUS, FieldName.PAYMENT) for x in item.conditions()):
            alts.append(item.conditions())
        else:
            loose.append(item.conditions())
    if not all(any(_alone(x, c, now) for x in alt) for alt in loose):
        return False
    return _scope(conds, alts, c, now)
