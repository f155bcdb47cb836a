"""Parsing one CSV row: its cells to (email, first name, last name, created_at),
plus the memberships it names (when the file has membership columns), or the
reason it is invalid. Whether a row is invalid depends on the row alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unicodedata import is_normalized

from session_tui.data.clock import MAX_YEAR, MIN_YEAR, SUPPORTED_DATES, utcnow
from session_tui.data.csvio.escaping import unescape_cell
from session_tui.data.csvio.mapping import ColumnMapping
from session_tui.data.csvio.membership_cells import (
    Invalid,
    MembershipCells,
    MembershipSpec,
)
from session_tui.data.csvio.reader import ColumnMap
from session_tui.data.validation import (
    FAST_DOMAIN,
    FAST_LOCAL,
    MAX_EMAIL,
    MAX_NAME,
    ValidationError,
    clean_email,
    email_problem,
    normalize_name,
    strip_controls,
)


def _name(raw: str, label: str) -> str:
    """normalize_name of an (escaped) cell, with a fast path for the common case.

    A printable string has no control, format (bidi) or separator characters
    but the ASCII space, so NFC + strip_controls + whitespace folding reduce to
    folding the spaces -- same result as normalize_name. Raises ValidationError.
    """
    if raw and raw[0] == "'":
        raw = unescape_cell(raw)
    if raw.isprintable() and (raw.isascii() or is_normalized("NFC", raw)):
        if "  " in raw or raw[:1] == " " or raw[-1:] == " ":
            raw = " ".join(raw.split())
        if len(raw) > MAX_NAME:
            raise ValidationError(
                label, f"{label.replace('_', ' ')} is longer than {MAX_NAME} characters"
            )
        return raw
    return normalize_name(raw, label)


def stored_text(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime type stores (PostgreSQL casts it).
    return value.isoformat(sep=" ", timespec="microseconds")


_UTC_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}[Zz]")


def parse_created(raw: str) -> str | None:
    """A created_at cell as stored text (naive UTC, second precision:
    `2023-04-12 09:15:32.000000`), or None if it is not a date.

    ISO 8601 (`2023-04-12`, `2023-04-12 09:15:32`, `2023-04-12T09:15:32.000Z`,
    `…+02:00`, `… UTC`); without a zone it is taken as UTC.
    """
    text = raw.strip()
    if not text:
        return None
    if text[0] == "'":
        text = unescape_cell(text)
    if len(text) == 26 and text[10] == " " and text.endswith(".000000"):
        # Already in the stored form (session-tui's own database dumps): check only.
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return None
        return text
    if len(text) == 20 and _UTC_SECOND.fullmatch(text):
        # UTC to the second (session-tui's own export: `2023-04-12T09:15:32Z`): the
        # stored form is the same digits; check that they are a real moment.
        try:
            datetime.fromisoformat(text[:19])
        except ValueError:
            return None
        return f"{text[:10]} {text[11:19]}.000000"
    if text[-4:].upper() in (" UTC", " GMT"):  # Kit writes "2023-07-04 08:30:00 UTC"
        text = text[:-4] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None
    if value.microsecond:
        value = value.replace(microsecond=0)
    return stored_text(value)


# Distinct name cells remembered per column (`RowParser._cell_name`): a few MB at most.
_NAMES_KEPT = 1 << 16
_DOMAINS_KEPT = 1 << 12  # domains known to pass `FAST_DOMAIN` (gmail.com, ...)
_fast_local = FAST_LOCAL.fullmatch
_fromisoformat = datetime.fromisoformat

# (email, first name, last name, created_at as stored text or None)
Parsed = tuple[str, str, str, str | None]


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def not_utf8_reason(cells: list[str]) -> str | None:
    """`not valid UTF-8 (byte 0x81 at column 2)` for a row read with "surrogateescape"
    that holds a byte that is not UTF-8 (column = the CSV column, from 1), else None."""
    for index, cell in enumerate(cells):
        found = _ESCAPED_BYTE.search(cell)
        if found is not None:
            byte = ord(found.group()) - 0xDC00
            return f"not valid UTF-8 (byte 0x{byte:02x} at column {index + 1})"
    return None


def printable(text: str) -> str:
    """`text` with bytes that were not UTF-8 shown as U+FFFD (safe to print)."""
    if _ESCAPED_BYTE.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


Specs = tuple[MembershipSpec, ...]


def membership_problem(spec: MembershipSpec, now: datetime) -> str | None:
    """Why a membership the file gives cannot be stored: its expiry is not after
    its start (the import time when the file gives no start)."""
    if spec.expires is None:
        return None
    if spec.started is not None:
        if spec.expires <= spec.started:
            return (
                f"memberships: '{spec.product}' expires {spec.expires:%Y-%m-%d %H:%M:%S}, "
                "not after it started"
            )
        return None
    if spec.expires <= now:
        return (
            f"memberships: '{spec.product}' expires {spec.expires:%Y-%m-%d %H:%M:%S}, "
            "in the past, and the file gives no start"
        )
    return None


class RowParser:
    """Turns a row's cells into a `Parsed` tuple, or a reason why the row is invalid.

    With a `mapping` that has membership columns, `parse_full` also reads the
    memberships the row names (membership_cells.py); `comp_product` is the
    product of a complimentary plan that names no tier."""

    def __init__(
        self,
        columns: ColumnMap,
        *,
        mapping: ColumnMapping | None = None,
        comp_product: str | None = None,
        lenient: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.columns = columns
        self.lenient = lenient  # the file may hold bytes that are not UTF-8 (see reader)
        self.dates_defaulted = 0  # created_at cells that are not dates
        cells = None
        if mapping is not None:
            cells = MembershipCells(mapping, comp_product=comp_product)
        self.memberships = cells if cells is not None and cells.any else None
        self.now = now or utcnow()
        self._email = columns.email
        self._first = columns.first_name
        self._last = columns.last_name
        self._full = columns.full_name
        self._created = columns.created_at
        # Cell -> its `_name`, per column (see `_cell_name`).
        self._first_names: dict[str, str] = {}
        self._last_names: dict[str, str] = {}
        self._full_names: dict[str, str] = {}
        self._domains: set[str] = set()

    def parse_full(self, cells: list[str]) -> tuple[Parsed, Specs] | str:
        """`parse`, plus the row's memberships (none without membership columns)."""
        result = self.parse(cells)
        if isinstance(result, str):
            return result
        if self.memberships is None:
            return result, ()
        specs = self.memberships.parse(cells)
        if isinstance(specs, Invalid):
            return specs.reason
        for spec in specs:
            problem = membership_problem(spec, self.now)
            if problem is not None:
                return problem
        return result, specs

    def reason(self, cells: list[str]) -> str | None:
        """Why the row is invalid (contact or memberships), or None."""
        result = self.parse_full(cells)
        return result if isinstance(result, str) else None

    def raw_email(self, cells: list[str]) -> str:
        i = self.columns.email
        return strip_controls(cells[i]).strip() if i < len(cells) else ""

    def parse(self, cells: list[str]) -> Parsed | str:
        if self.lenient:
            reason = not_utf8_reason(cells)
            if reason is not None:
                return reason
        n = len(cells)
        i = self._email
        raw = cells[i] if i < n else ""
        if raw and raw[0] == "'":
            raw = unescape_cell(raw)
        email = raw.strip().lower()
        if email.isascii() and email.isprintable():
            # email_problem's fast path, a domain checked once: the two halves of
            # its pattern (validation.FAST_LOCAL/FAST_DOMAIN). Else email_problem.
            local, _, domain = email.partition("@")
            if not (
                (domain in self._domains or self._fast_domain(domain))
                and _fast_local(local)
                and len(email) <= MAX_EMAIL
            ):
                problem = email_problem(email)
                if problem is not None:
                    return problem
        else:
            email = clean_email(email)  # NFC, controls removed, domain NFKC
            problem = email_problem(email)
            if problem is not None:
                return problem
        try:
            if self._full is not None:
                full = self._cell_name(cells, n, self._full, self._full_names, "name")
                first, _, last = full.partition(" ")
            else:
                # `_cell_name` of both columns, its cache hit inline (the common case)
                col = self._first
                name = "" if col is None or col >= n else self._first_names.get(cells[col])
                if name is None:
                    name = self._cell_name(cells, n, col, self._first_names, "first_name")
                first = name
                col = self._last
                name = "" if col is None or col >= n else self._last_names.get(cells[col])
                if name is None:
                    name = self._cell_name(cells, n, col, self._last_names, "last_name")
                last = name
        except ValidationError as exc:
            return exc.message
        created = None
        d = self._created
        if d is not None and d < n and cells[d]:
            text = cells[d]
            if (
                len(text) == 26
                and text[10] == " "
                and text[:4].isdigit()
                and text[-7:] == ".000000"
            ):
                # parse_created's first case (the stored form), inline: same result
                try:
                    year = _fromisoformat(text).year  # == int(text[:4])
                    created = text
                except ValueError:
                    created = None
            else:
                created = parse_created(text)
                year = 0 if created is None else int(created[:4])
            if created is None and text.strip():
                self.dates_defaulted += 1
            elif created is not None and not MIN_YEAR <= year <= MAX_YEAR:
                return (
                    f"created_at {created[:10]} is outside the supported dates ({SUPPORTED_DATES})"
                )
        return (email, first, last, created)

    def _fast_domain(self, domain: str) -> bool:
        """Whether `domain` passes FAST_DOMAIN; remembered when it does."""
        if FAST_DOMAIN.fullmatch(domain) is None:
            return False
        if len(self._domains) >= _DOMAINS_KEPT:
            self._domains.clear()
        self._domains.add(domain)
        return True

    @staticmethod
    def _cell_name(
        cells: list[str], n: int, i: int | None, seen: dict[str, str], label: str
    ) -> str:
        """`_name` of column `i`'s cell ("" when the row has no such cell), from
        `seen` when the same cell was read before: names repeat (a file of a
        million contacts has a few thousand distinct first names). Only accepted
        names are kept; a refused one raises ValidationError every time."""
        if i is None or i >= n:
            return ""
        raw = cells[i]
        name = seen.get(raw)
        if name is None:
            name = _name(raw, label)
            if len(seen) >= _NAMES_KEPT:
                seen.clear()
            seen[raw] = name
        return name
