"""The memberships a CSV row names: parsing only (no database, no Textual).

Where they come from, per the file's `ColumnMapping`:

- our export's `memberships` column (a JSON list, the lossless one: product,
  payment type, status, started, expires, cancelled -- see docs/import-export.md);
  when it is filled it is the source, and `products` / `payment_types` in the
  same row must name the same memberships;
- our export's `products` + `payment_types`, `;`-separated in the same order,
  or a plain `product` + `payment_type` pair (a single name is a list of one);
- Ghost's `tiers` (tier names separated by `,`) or `import_tier` (one name),
  and `complimentary_plan` (`true` -> comped).

`MembershipCells(mapping).parse(cells)` gives a tuple of `MembershipSpec`, or
`Invalid` with the reason the row is refused: the same product twice, more
payment types than products, an unknown payment type, a bad date, a
`memberships` cell that is not what our export writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from session_tui.data.clock import date_problem
from session_tui.data.csvio.escaping import unescape_cell
from session_tui.data.csvio.mapping import ColumnMapping
from session_tui.data.enums import PaymentType, Status
from session_tui.data.validation import ValidationError, normalize_name

LIST_SEPARATOR = ";"  # products and payment types (our export writes "; ")
TIER_SEPARATOR = ","  # Ghost's tiers column
_TRUE = frozenset({"true", "yes", "1", "y"})
_FALSE = frozenset({"false", "no", "0", "n", ""})
_PAYMENTS = ", ".join(p.value for p in PaymentType)
_KEYS = frozenset({"product", "payment_type", "status", "started", "expires", "cancelled"})


@dataclass(frozen=True)
class MembershipSpec:
    """One membership a row asks for.

    `product` None: a complimentary plan that names no tier (Ghost's
    `complimentary_plan` alone) -- the product is the one the user picks.
    Times are naive UTC; None where the file does not say (started: the import
    time; expires: never).
    """

    product: str | None
    payment_type: PaymentType
    started: datetime | None = None
    expires: datetime | None = None
    cancelled: datetime | None = None
    status: Status | None = None  # as the file wrote it (our export); informative


@dataclass(frozen=True)
class Invalid:
    """The row is invalid: `reason` is for the user (and the rejects file)."""

    reason: str


Parsed = tuple[MembershipSpec, ...] | Invalid


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or time as naive UTC (no zone: UTC). ValueError if not one."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    problem = date_problem(moment.date())
    if problem is not None:
        raise ValueError(problem)
    return moment


def _payment(text: str, where: str) -> PaymentType | Invalid:
    value = text.strip().lower()
    try:
        return PaymentType(value)
    except ValueError:
        return Invalid(f"unknown payment type '{text.strip()}' in {where} ({_PAYMENTS})")


def _product_name(text: str, where: str) -> str | Invalid:
    try:
        name = normalize_name(text, "product")
    except ValidationError as exc:
        return Invalid(f"{where}: {exc.message}")
    if not name:
        return Invalid(f"an empty product name in {where}")
    return name


def _twice(names: Sequence[str]) -> Invalid | None:
    seen: set[str] = set()
    for name in names:
        key = name.casefold()
        if key in seen:
            return Invalid(f"the product '{name}' is named twice")
        seen.add(key)
    return None


class MembershipCells:
    """Reads the membership columns of rows mapped by `mapping`.

    `default_payment`: the payment type of a product named without one (and
    without a true complimentary plan); `comp_product`: the product of a
    complimentary plan that names no tier (None: the spec's product is None).
    """

    def __init__(
        self,
        mapping: ColumnMapping,
        *,
        default_payment: PaymentType = PaymentType.PAID,
        comp_product: str | None = None,
    ) -> None:
        self.products = mapping.index("products")
        self.payment_types = mapping.index("payment_types")
        self.tiers = mapping.index("tiers")
        self.complimentary = mapping.index("complimentary")
        self.memberships = mapping.index("memberships")
        self.default_payment = default_payment
        self.comp_product = comp_product

    @property
    def any(self) -> bool:
        """Whether the file has a membership column at all."""
        columns = (self.products, self.payment_types, self.tiers, self.complimentary)
        return any(c is not None for c in (*columns, self.memberships))

    @staticmethod
    def _cell(cells: Sequence[str], index: int | None) -> str:
        if index is None or index >= len(cells):
            return ""
        return unescape_cell(cells[index].strip())

    def parse(self, cells: Sequence[str]) -> Parsed:
        lossless = self._cell(cells, self.memberships)
        if not lossless:
            return self._listed(cells)
        specs = parse_memberships_cell(lossless)
        if isinstance(specs, Invalid):
            return specs
        # Our export fills products / payment_types too: a spreadsheet edit of one
        # but not the other must not pass unnoticed.
        products = self._cell(cells, self.products)
        payments = self._cell(cells, self.payment_types)
        others = (self._cell(cells, self.tiers), self._cell(cells, self.complimentary))
        if not products and not payments and not any(others):
            return specs
        if (
            not any(others)
            and products == "; ".join(s.product or "" for s in specs)
            and payments in ("", "; ".join(s.payment_type.value for s in specs))
        ):
            return specs  # as exported (a "; " inside a product name included)
        listed = self._listed(cells)
        if isinstance(listed, Invalid) or _named(listed, bool(payments)) != _named(
            specs, bool(payments)
        ):
            return Invalid("products / payment_types and memberships name different memberships")
        return specs

    def _listed(self, cells: Sequence[str]) -> Parsed:
        """The memberships of the products / tiers / payment type / complimentary columns."""
        raw_products = self._cell(cells, self.products)
        raw_tiers = self._cell(cells, self.tiers)
        raw_payments = self._cell(cells, self.payment_types)
        raw_comp = self._cell(cells, self.complimentary).lower()
        if raw_comp not in _TRUE and raw_comp not in _FALSE:
            return Invalid(f"complimentary_plan must be true or false, not '{raw_comp}'")
        comped = raw_comp in _TRUE

        names: list[str] = []
        for raw, separator, where in (
            (raw_products, LIST_SEPARATOR, "products"),
            (raw_tiers, TIER_SEPARATOR, "tiers"),
        ):
            if not raw:
                continue
            for part in raw.split(separator):
                name = _product_name(part, where)
                if isinstance(name, Invalid):
                    return name
                names.append(name)
        twice = _twice(names)
        if twice is not None:
            return twice

        payments: list[PaymentType] = []
        if raw_payments:
            for part in raw_payments.split(LIST_SEPARATOR):
                payment = _payment(part, "payment_types")
                if isinstance(payment, Invalid):
                    return payment
                payments.append(payment)
        if len(payments) > max(len(names), 1):
            return Invalid(
                f"{len(payments)} payment types for {len(names)} product"
                f"{'' if len(names) == 1 else 's'}"
            )
        if 1 < len(payments) < len(names):
            return Invalid(
                f"{len(payments)} payment types for {len(names)} products: give one for each "
                "product (in the same order), or one for all"
            )
        if comped and any(p is not PaymentType.COMPED for p in payments):
            return Invalid("complimentary_plan is true but the payment type is not comped")

        if not names:
            if comped:
                return (MembershipSpec(self.comp_product, PaymentType.COMPED),)
            if payments:
                return Invalid("a payment type without a product")
            return ()
        if comped:
            fallback = PaymentType.COMPED
        else:
            fallback = payments[0] if len(payments) == 1 else self.default_payment
        if len(payments) != len(names):
            payments = [fallback] * len(names)
        return tuple(MembershipSpec(n, p) for n, p in zip(names, payments, strict=True))


def _named(specs: Sequence[MembershipSpec], with_payment: bool) -> set[tuple[str, str]]:
    return {((s.product or "").casefold(), s.payment_type if with_payment else "") for s in specs}


def _moment_of(item: dict[str, object], key: str) -> datetime | None | Invalid:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        return Invalid(f"memberships: '{key}' is not a date: {value!r}")
    try:
        return parse_moment(value)
    except ValueError:
        return Invalid(f"memberships: '{key}' is not a date: '{value}'")


def parse_memberships_cell(text: str) -> Parsed:
    """Our export's `memberships` cell (a JSON list of objects) as specs."""
    try:
        data = json.loads(text)
    except ValueError:
        return Invalid("memberships is not the JSON list session-tui writes")
    if not isinstance(data, list):
        return Invalid("memberships is not the JSON list session-tui writes")
    specs: list[MembershipSpec] = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("product"), str):
            return Invalid("memberships: every membership needs a product name")
        unknown = set(item) - _KEYS
        if unknown:
            return Invalid(f"memberships: unknown key '{sorted(unknown)[0]}'")
        name = _product_name(str(item["product"]), "memberships")
        if isinstance(name, Invalid):
            return name
        payment = _payment(str(item.get("payment_type", "")), "memberships")
        if isinstance(payment, Invalid):
            return payment
        status: Status | None = None
        if item.get("status") is not None:
            try:
                status = Status(str(item["status"]))
            except ValueError:
                return Invalid(f"memberships: unknown status '{item['status']}'")
        times: list[datetime | None] = []
        for key in ("started", "expires", "cancelled"):
            moment = _moment_of(item, key)
            if isinstance(moment, Invalid):
                return moment
            times.append(moment)
        specs.append(MembershipSpec(name, payment, times[0], times[1], times[2], status))
    twice = _twice([s.product or "" for s in specs])
    return twice if twice is not None else tuple(specs)
