"""The importer's membership options and counts, as the import dialog uses them.

The importer grants the memberships a file names (its products, Ghost tiers,
complimentary plans). Two choices change what it does, and the dialog offers both:

- `create_products`: create the products the database does not have yet (else the
  memberships of those products are skipped);
- `update_memberships`: grant the file's memberships to contacts that already exist
  too (else existing contacts are left as they are).

Everything the dialog reads from the importer about memberships goes through the
few functions here, so the dialog never depends on more than this contract:
`import_csv(..., create_products=, update_memberships=)` and the report's
`memberships_granted`, `memberships_reactivated`, `memberships_skipped`,
`products_to_create`, `products_created` and `headline()`. A report without them (an importer that
reads no memberships) counts none and its headline is the contacts added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypedDict, cast

from session_tui.data.csvio import CsvLayout, ImportReport, Progress
from session_tui.data.csvio.mapping import MEMBERSHIP_FIELDS
from session_tui.data.db import Database
from session_tui.ui.wording import plural


class MembershipKeywords(TypedDict, total=False):
    create_products: bool
    update_memberships: bool


class Importer(Protocol):
    """`import_csv` as the dialog calls it."""

    def __call__(
        self,
        db: Database,
        source: CsvLayout,
        *,
        dry_run: bool = ...,
        progress: Callable[[Progress], None] | None = ...,
        cancel: Callable[[], bool] | None = ...,
        create_products: bool = ...,
        update_memberships: bool = ...,
    ) -> ImportReport: ...


def importer(function: Callable[..., ImportReport]) -> Importer:
    """`import_csv` with the membership keywords the dialog passes."""
    return cast(Importer, function)


@dataclass(frozen=True)
class MembershipOptions:
    """What the user chose in the preview (the defaults: the careful choice)."""

    create_products: bool = False
    update_memberships: bool = False

    def keywords(self) -> MembershipKeywords:
        """The keywords for `import_csv` (none at all for the defaults)."""
        keywords: MembershipKeywords = {}
        if self.create_products:
            keywords["create_products"] = True
        if self.update_memberships:
            keywords["update_memberships"] = True
        return keywords


@dataclass(frozen=True)
class MembershipCounts:
    granted: int = 0
    reactivated: int = 0
    skipped: int = 0
    products_to_create: tuple[str, ...] = ()
    products_created: int = 0

    @property
    def any(self) -> bool:
        return bool(self.granted or self.reactivated or self.skipped or self.products_to_create)


def _count(report: ImportReport, name: str) -> int:
    value = getattr(report, name, 0)
    return value if isinstance(value, int) else 0


def membership_counts(report: ImportReport) -> MembershipCounts:
    names = getattr(report, "products_to_create", ())
    return MembershipCounts(
        granted=_count(report, "memberships_granted"),
        reactivated=_count(report, "memberships_reactivated"),
        skipped=_count(report, "memberships_skipped"),
        products_to_create=tuple(str(name) for name in names),
        products_created=_count(report, "products_created"),
    )


def headline(report: ImportReport) -> str:
    """e.g. "added 120 contacts · 164 memberships granted · 3 products to create"."""
    method = getattr(report, "headline", None)
    if callable(method):
        return str(method())
    return f"added {plural(report.added)}"


def reads_memberships(layout: CsvLayout) -> bool:
    """Whether a column of the file is mapped to a membership field."""
    mapping = layout.column_mapping
    return mapping is not None and any(name in MEMBERSHIP_FIELDS for name in mapping.used())


def memberships_summary(counts: MembershipCounts) -> str:
    """For the toast: "164 memberships granted · 2 reactivated · 3 skipped · 1 product
    created" (or "")."""
    parts = (
        (counts.granted, f"{plural(counts.granted, 'membership')} granted"),
        (counts.reactivated, f"{counts.reactivated:,} reactivated"),
        (counts.skipped, f"{counts.skipped:,} skipped"),
        (counts.products_created, f"{plural(counts.products_created, 'product')} created"),
    )
    return " · ".join(text for count, text in parts if count)
