"""Compiling a filter to one SQL WHERE clause over `contact` (never a Python loop over rows).

Semantics (README "Filters and segments"):

* A filter means what its normalised form (`ast.normalize`, = its text form) means.
* The conditions of one AND scope -- the root AND group with any nested AND groups
  spliced in, or one nested AND group of an OR root -- are combined with AND.
  Its *membership part* is its `product is`, `status` and `payment` conditions plus
  its nested OR groups made only of status/payment conditions ("alternatives").
* If the scope directly holds a `product is` or a `payment` condition, its membership
  part is **bound**: all of it describes the same membership.
  For each `product is P` (several products: one membership of each, each meeting the
  status/payment conditions) the contact must have a membership m of P with
  status/payment/alternatives true for m; with no product, any one membership.
  `status:none` in a bound scope means "has no such membership": `product:P
  status:none` = no membership of P (with no product: no memberships at all).
* Otherwise every condition stands alone; a status alone is the contact's status,
  from the indexed `contact.active_until`: active > now, expired <= now, none IS NULL.
* Everything else stands alone: `product is not P` = no membership of P; payment
  alone = has a membership with that payment type (active or not); search, joined,
  expires, domain are conditions on the contact; in an OR group every item stands
  alone (a nested AND group there is its own scope).
* `status:all` is no condition (in a bound scope: the membership may have any status).

Membership tests are uncorrelated `contact.id IN (SELECT contact_id FROM membership
WHERE …)` semi-joins: both databases run them from the membership indexes once per
query (a correlated EXISTS makes SQLite probe once per contact row). That probe is
what a first page wants when many contacts match: `walk_order_index` (SQLite) turns
them into correlated EXISTS, so the page walks its ORDER BY's index and stops after
LIMIT matches, with no list of every match built first (the repository decides when).
`membership_count` counts a filter that is one membership condition from the
membership indexes alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
)

from session_tui.data.clock import FAR_FUTURE, date_to_dt
from session_tui.data.filters.conditions import (
    Condition,
    FieldName,
    GroupLike,
    Mode,
    Op,
    parse_day,
)
from session_tui.data.search import search_clause
from session_tui.data.tables import contact_t, membership_t, product_t

# The email domain: everything after the first '@'. Written literally so that it is
# the very expression of the ix_contact_email_domain index (migration 0003).
DOMAIN_SQL = {
    "sqlite": "substr(contact.email, instr(contact.email, '@') + 1)",
    "postgresql": "substr(contact.email, strpos(contact.email, '@') + 1)",
}

_MEMBERSHIP_FIELDS = (FieldName.STATUS, FieldName.PAYMENT)


@dataclass(frozen=True)
class _Bound:
    """A bound scope's membership part: for each target (a `product is` condition, or
    None = any product) a membership meeting `atoms`; `none_matches`: having no such
    membership matches too; `real_possible`: a real membership can match at all."""

    targets: list[Condition | None]
    atoms: list[ColumnElement[bool]]
    none_matches: bool
    real_possible: bool


class _Compiler:
    def __init__(self, dialect: str, now: datetime, walk_order_index: bool = False) -> None:
        self.dialect = dialect
        self.now = now
        self.walk = walk_order_index and dialect == "sqlite"
        self.c = contact_t.c

    # -- building blocks ---------------------------------------------------------------
    def product_ids(self, name: str) -> ColumnElement[bool]:
        p = product_t.c
        # Names are unique ignoring case; SQLite's lower() folds ASCII only, st_lower
        # (registered in db.py) folds all of Unicode like the products repository.
        lowered = func.st_lower(p.name) if self.dialect == "sqlite" else func.lower(p.name)
        # An equality (not IN) so that SQLite reads ix_membership_product_status.
        pid = select(p.id).where(lowered == name.lower()).limit(1).scalar_subquery()
        return membership_t.c.product_id == pid

    def has_membership(self, *conds: ColumnElement[bool]) -> ColumnElement[bool]:
        m = membership_t.c
        if self.walk:
            # walk_order_index: a correlated EXISTS, answered per contact row from the
            # unique (contact_id, product_id) index -- a few index reads per row the
            # walk of the ORDER BY's index visits, and no list of every match built
            # first (that list costs 40-150 ms at 1M for a popular product).
            # (payment_is keeps SQLite off ix_membership_payment here: that index
            # would scan every membership of the payment type for each contact.)
            own = [m.contact_id == self.c.id]
            return exists(select(literal_column("1")).where(*own, *conds))
        sub = select(m.contact_id).where(*conds) if conds else select(m.contact_id)
        return self.c.id.in_(sub)

    def payment_is(self, value: str) -> ColumnElement[bool]:
        column = membership_t.c.payment_type
        # walk: `payment_type || ''` is no index key (see has_membership)
        return (column.concat("") if self.walk else column) == value

    def m_end(self) -> ColumnElement[datetime]:
        # coalesce, not "expires_at IS NULL OR expires_at > now": an OR on expires_at
        # lures SQLite into a multi-index OR over ix_membership_expires instead of
        # reading the product's covering index.
        return func.coalesce(membership_t.c.expires_at, literal(FAR_FUTURE, DateTime()))

    def m_active(self) -> ColumnElement[bool]:
        m = membership_t.c
        return and_(m.cancelled_at.is_(None), self.m_end() > self.now)

    def m_expired(self) -> ColumnElement[bool]:
        m = membership_t.c
        return or_(m.cancelled_at.is_not(None), self.m_end() <= self.now)

    def m_atom(self, cond: Condition) -> ColumnElement[bool]:
        """A status/payment condition on one membership row."""
        if cond.field is FieldName.PAYMENT:
            return self.payment_is(cond.value)
        if cond.value == "active":
            return self.m_active()
        if cond.value == "expired":
            return self.m_expired()
        if cond.value == "none":
            return false()
        return true()  # all

    def contact_status(self, value: str) -> ColumnElement[bool]:
        au = self.c.active_until
        if value == "active":
            return au > self.now
        if value == "expired":
            return au <= self.now
        if value == "none":
            return au.is_(None)
        return true()

    # -- conditions standing alone -------------------------------------------------------
    def alone(self, cond: Condition) -> ColumnElement[bool]:
        c, f, op, v = self.c, cond.field, cond.op, cond.value
        if f is FieldName.PRODUCT:
            has = self.has_membership(self.product_ids(v))
            return has if op is Op.IS else not_(has)
        if f is FieldName.STATUS:
            return self.contact_status(v)
        if f is FieldName.PAYMENT:
            return self.has_membership(self.payment_is(v))
        if f is FieldName.SEARCH:
            clause = search_clause(self.dialect, v)
            return clause if op is Op.CONTAINS else not_(clause)
        if f is FieldName.JOINED:
            day = date_to_dt(parse_day(v))
            nxt = day + timedelta(days=1)
            if op is Op.BEFORE:
                return c.created_at < day
            if op is Op.ON_OR_BEFORE:
                return c.created_at < nxt
            if op is Op.AFTER:
                return c.created_at >= nxt
            if op is Op.ON_OR_AFTER:
                return c.created_at >= day
            return and_(c.created_at >= day, c.created_at < nxt)
        if f is FieldName.EXPIRES:
            m = membership_t.c
            until = self.now + timedelta(days=int(v))
            return self.has_membership(
                m.expires_at > self.now, m.expires_at <= until, m.cancelled_at.is_(None)
            )
        # domain
        sql = DOMAIN_SQL.get(self.dialect, DOMAIN_SQL["sqlite"])
        expr: ColumnElement[str] = literal_column(sql)
        return expr == v if op is Op.IS else expr != v

    # -- scopes ---------------------------------------------------------------------------
    def bound(self, conds: list[Condition], alts: list[list[Condition]]) -> _Bound | None:
        """The membership part of one AND scope when it is bound (see the module doc)."""
        products = [x for x in conds if x.field is FieldName.PRODUCT and x.op is Op.IS]
        statuses = [x for x in conds if x.field is FieldName.STATUS]
        payments = [x for x in conds if x.field is FieldName.PAYMENT]
        if not (products or payments):
            return None

        # The status conditions that can hold for "no such membership".
        def none_ok(x: Condition) -> bool:
            return x.field is FieldName.STATUS and x.value in ("none", "all")

        has_none = any(s.value == "none" for s in statuses) or any(
            a.field is FieldName.STATUS and a.value == "none" for alt in alts for a in alt
        )
        none_matches = (
            has_none
            and all(none_ok(s) for s in statuses)
            and not payments
            and all(any(none_ok(a) for a in alt) for alt in alts)
        )
        real_possible = not any(s.value == "none" for s in statuses)
        atoms = [self.m_atom(x) for x in statuses + payments]
        atoms += [or_(*[self.m_atom(a) for a in alt]) for alt in alts]
        targets: list[Condition | None] = list(products) or [None]
        return _Bound(targets, atoms, none_matches, real_possible)

    def scope(self, conds: list[Condition], alts: list[list[Condition]]) -> ColumnElement[bool]:
        """One AND scope: `conds` and status/payment-only OR groups `alts`."""
        others = [x for x in conds if not x.is_membership]
        clauses = [self.alone(x) for x in others]
        plan = self.bound(conds, alts)
        if plan is None:  # not bound: everything stands alone
            statuses = [x for x in conds if x.field is FieldName.STATUS]
            clauses += [self.contact_status(s.value) for s in statuses]
            clauses += [or_(*[self.alone(a) for a in alt]) for alt in alts]
            return and_(true(), *clauses)
        for product in plan.targets:
            where = [self.product_ids(product.value)] if product is not None else []
            clause: ColumnElement[bool] = (
                self.has_membership(*where, *plan.atoms) if plan.real_possible else false()
            )
            if plan.none_matches:
                if product is not None:
                    absent = not_(self.has_membership(*where))
                else:
                    absent = self.c.active_until.is_(None)
                clause = or_(clause, absent) if plan.real_possible else absent
            clauses.append(clause)
        return and_(true(), *clauses)

    def split(
        self, items: tuple[Condition | GroupLike, ...]
    ) -> tuple[list[Condition], list[list[Condition]], list[ColumnElement[bool]]]:
        """An AND group's conditions, its status/payment-only OR groups (alternatives)
        and its other OR groups (compiled: each item stands alone)."""
        conds: list[Condition] = []
        alts: list[list[Condition]] = []
        extra: list[ColumnElement[bool]] = []
        for item in items:
            if isinstance(item, Condition):
                conds.append(item)
            elif item.mode is Mode.AND:
                conds.extend(item.conditions())
            else:
                inner = item.conditions()
                if not inner:
                    continue
                if all(x.field in _MEMBERSHIP_FIELDS for x in inner):
                    alts.append(inner)
                else:
                    extra.append(or_(*[self.alone(x) for x in inner]))
        return conds, alts, extra

    def and_group(self, items: tuple[Condition | GroupLike, ...]) -> ColumnElement[bool]:
        conds, alts, extra = self.split(items)
        return and_(self.scope(conds, alts), *extra)

    def or_group(self, items: tuple[Condition | GroupLike, ...]) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        for item in items:
            if isinstance(item, Condition):
                parts.append(self.alone(item))
            elif item.mode is Mode.OR:
                parts.extend(self.alone(x) for x in item.conditions())
            else:
                parts.append(self.and_group(item.items))
        return or_(false(), *parts)


def compile_where(
    group: GroupLike, dialect: str, now: datetime, *, walk_order_index: bool = False
) -> ColumnElement[bool]:
    """The WHERE clause on `contact` selecting the contacts that match `group` at `now`.

    The meaning is that of the normalised filter (= of its text form).
    `walk_order_index` (SQLite): for a filter matching many contacts, let a page query
    walk its ORDER BY index and probe each contact's memberships (correlated EXISTS on
    the unique (contact_id, product_id) index) instead of fetching and sorting every
    match (like `search_clause`'s flag; the caller decides: walking costs a probe per
    contact visited, so it pays when matches are dense in the order)."""
    group = group.normalized()
    compiler = _Compiler(dialect, now, walk_order_index)
    if not group.items:
        return true()
    if group.mode is Mode.AND:
        return compiler.and_group(group.items)
    return compiler.or_group(group.items)


def membership_count(group: GroupLike, dialect: str, now: datetime) -> Select[Any] | None:
    """`SELECT count(...)` of the contacts matching `group`, read from `membership` alone
    -- or None when the filter is not one membership condition.

    So it is for one bound AND scope of one `product is` and status/payment conditions
    (with alternatives): `product:"1:1 Coaching" status:active`, `product:Course
    (status:active or payment:free)`. The contacts are then those owning a membership
    of the product that meets the conditions (every membership has its contact: a
    foreign key), and a contact has at most one membership of a product
    (ux_membership_contact_product): the count is the number of such memberships --
    one range of the covering ix_membership_product_status, without a look at
    `contact` (at 1M: ~40 ms instead of ~300 ms for the semi-join).
    """
    group = group.normalized()
    if not group.items or group.mode is not Mode.AND:
        return None
    compiler = _Compiler(dialect, now)
    conds, alts, extra = compiler.split(group.items)
    if extra or not all(x.is_membership for x in conds):
        return None
    plan = compiler.bound(conds, alts)
    if plan is None or len(plan.targets) != 1 or plan.none_matches or not plan.real_possible:
        return None
    product = plan.targets[0]
    if product is None:
        # Without a product a contact may hold several such memberships: count(DISTINCT
        # contact_id) sorts them all (at 1M, `payment:paid`: 2.3 s against 1.1 s for
        # the semi-join), so the semi-join counts those.
        return None
    where = compiler.product_ids(product.value)
    return select(func.count()).select_from(membership_t).where(where, *plan.atoms)
