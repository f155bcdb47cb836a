"""Which column of a CSV file holds which field: header aliases, the user's mapping.

`auto_mapping(header)` recognises the usual header names (ours, Ghost's,
Mailchimp's, Kit's). When no header is recognised as the email,
`propose_email(header, rows)` points at the column whose values look like
emails. A `ColumnMapping` gives every column a field (or None: ignored); the
user may set each one (`with_field`), and `check()` refuses a mapping without
an email column or with two columns for one field. `parse_map_options` reads
the command line's `--map email=correo_electronico` spelling. Mappings are
remembered per header set (`remember` / `recall`) in a small JSON file.

No Textual here; nothing from the rest of csvio either (the reader builds on it).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from session_tui.data.validation import email_problem, strip_controls
from session_tui.locations import column_mappings_path

# The fields a column can hold, in the order a mapping dialog offers them.
CONTACT_FIELDS = ("email", "first_name", "last_name", "full_name", "created_at")
# products: product names separated by ";" (ours; a single name is a list of one);
# tiers: Ghost's export, tier names separated by ","; complimentary: Ghost's
# complimentary_plan (true = comped); memberships: our export's lossless column.
MEMBERSHIP_FIELDS = ("products", "payment_types", "tiers", "complimentary", "memberships")
FIELDS = CONTACT_FIELDS + MEMBERSHIP_FIELDS

FIELD_LABELS = {
    "email": "email",
    "first_name": "first name",
    "last_name": "last name",
    "full_name": "name (split into first and last name)",
    "created_at": "joined (created_at)",
    "products": "products",
    "payment_types": "payment type",
    "tiers": "tiers (Ghost)",
    "complimentary": "complimentary plan (Ghost)",
    "memberships": "memberships (session-tui)",
}
IGNORE = "ignore"

# Header names, normalised (lower case, without spaces, "_" and "-"), per field.
HEADER_ALIASES: dict[str, str] = {}
MEMBERSHIP_ALIASES: dict[str, str] = {}
for _aliases, _table in (
    (
        {
            "email": ("email", "emailaddress", "mail", "emailaddr"),
            "first_name": ("firstname", "givenname", "first", "fname", "forename"),
            "last_name": ("lastname", "surname", "familyname", "last", "lname"),
            "full_name": ("name", "fullname"),
            # Mailchimp exports the opt-in and confirmation times, Kit `created_at`.
            "created_at": (
                "createdat",
                "created",
                "joined",
                "joinedat",
                "dateadded",
                "optintime",
                "confirmtime",
            ),
        },
        HEADER_ALIASES,
    ),
    (
        {
            "products": ("products", "product", "importtier"),
            "payment_types": ("paymenttypes", "paymenttype", "payment"),
            "tiers": ("tiers",),
            "complimentary": ("complimentaryplan",),
            "memberships": ("memberships",),
        },
        MEMBERSHIP_ALIASES,
    ),
):
    for _field, _names in _aliases.items():
        for _name in _names:
            _table[_name] = _field

# Spellings accepted on the command line (`--map FIELD=COLUMN`).
FIELD_SPELLINGS = {
    **{name: name for name in FIELDS},
    "first": "first_name",
    "last": "last_name",
    "name": "full_name",
    "joined": "created_at",
    "product": "products",
    "payment_type": "payment_types",
    "payment": "payment_types",
    "complimentary_plan": "complimentary",
    IGNORE: IGNORE,
}

_HEADER_JUNK = re.compile(r"[\s_\-]+")
SAMPLE_ROWS = 50  # rows looked at to propose an email column
REMEMBERED = 100  # header sets remembered (the oldest is forgotten first)


class MappingError(ValueError):
    """A mapping that cannot be used. The message is for the user."""


def normalize_header(name: str) -> str:
    """`E-Mail Address` -> `emailaddress`: case, spaces, `_` and `-` ignored."""
    text = strip_controls(name.replace("\ufeff", "")).strip().strip('"').lower()
    return _HEADER_JUNK.sub("", text)


def shown_header(header: Sequence[str], index: int) -> str:
    """The header of column `index` as people see it: `(column 3)` when it has none."""
    name = header[index] if index < len(header) else ""
    return strip_controls(name.replace("\ufeff", "")).strip() or f"(column {index + 1})"


@dataclass(frozen=True)
class ColumnMapping:
    """The field each column of `header` holds (None: the column is ignored)."""

    header: tuple[str, ...]
    fields: tuple[str | None, ...]

    def __post_init__(self) -> None:
        if len(self.fields) != len(self.header):
            raise ValueError("one field (or None) per column")
        for name in self.fields:
            if name is not None and name not in FIELDS:
                raise ValueError(f"unknown field {name!r}")

    @classmethod
    def empty(cls, header: Sequence[str]) -> ColumnMapping:
        return cls(tuple(header), (None,) * len(header))

    def index(self, name: str) -> int | None:
        """The column holding field `name` (the first, if several), or None."""
        for index, value in enumerate(self.fields):
            if value == name:
                return index
        return None

    def used(self) -> dict[str, int]:
        """field -> column, for the mapped fields, in field order."""
        found = {name: self.index(name) for name in FIELDS}
        return {name: index for name, index in found.items() if index is not None}

    def ignored(self) -> tuple[str, ...]:
        """Headers of the columns no field comes from."""
        return tuple(
            shown_header(self.header, i) for i, value in enumerate(self.fields) if value is None
        )

    def with_field(self, column: int, name: str | None) -> ColumnMapping:
        """This mapping with column `column` set to field `name` (None or "ignore": ignored)."""
        if not 0 <= column < len(self.header):
            raise IndexError(column)
        fields = list(self.fields)
        fields[column] = None if name in (None, IGNORE) else name
        return replace(self, fields=tuple(fields))

    def problem(self) -> str | None:
        """Why this mapping cannot be used (for the user), or None."""
        for name in FIELDS:
            columns = [i for i, value in enumerate(self.fields) if value == name]
            if len(columns) > 1:
                shown = " and ".join(f"'{shown_header(self.header, i)}'" for i in columns)
                return (
                    f"{shown} are both mapped to {FIELD_LABELS[name]}: "
                    "map only one column to it (set the others to ignore)"
                )
        if "email" not in self.fields:
            return "no column is mapped to email: choose the column that holds the emails"
        return None

    def check(self) -> ColumnMapping:
        """This mapping, or MappingError with `problem()`."""
        problem = self.problem()
        if problem is not None:
            raise MappingError(problem)
        return self


def auto_mapping(header: Sequence[str]) -> ColumnMapping:
    """The fields recognised from the header names alone.

    The first column with a field's name wins; separate first/last name columns
    win over a full-name column. The email may be missing (see `propose_email`).
    """
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = normalize_header(name)
        field = HEADER_ALIASES.get(key) or MEMBERSHIP_ALIASES.get(key)
        if field is not None and field not in found:
            found[field] = index
    if "full_name" in found and ("first_name" in found or "last_name" in found):
        del found["full_name"]
    fields: list[str | None] = [None] * len(header)
    for field, index in found.items():
        fields[index] = field
    return ColumnMapping(tuple(header), tuple(fields))


def looks_like_email(value: str) -> bool:
    text = value.strip().lower()
    return "@" in text and email_problem(text) is None


def propose_email(header: Sequence[str], rows: Iterable[Sequence[str]]) -> int | None:
    """The column whose values look most like emails (sample rows), or None.

    A column qualifies when at least half of its non-empty values are valid
    email addresses; the one with the most such values wins (ties: the first).
    """
    width = len(header)
    hits = [0] * width
    filled = [0] * width
    for count, row in enumerate(rows):
        if count >= SAMPLE_ROWS:
            break
        for index, cell in enumerate(row[:width]):
            if cell.strip():
                filled[index] += 1
                if looks_like_email(cell):
                    hits[index] += 1
    best: int | None = None
    for index in range(width):
        if hits[index] and hits[index] * 2 >= filled[index]:
            if best is None or hits[index] > hits[best]:
                best = index
    return best


def proposed_mapping(header: Sequence[str], rows: Iterable[Sequence[str]]) -> ColumnMapping:
    """`auto_mapping`, with the email column proposed from the values when no
    header names it (a column already holding another field is taken for email)."""
    mapping = auto_mapping(header)
    if mapping.index("email") is None:
        column = propose_email(header, rows)
        if column is not None:
            mapping = mapping.with_field(column, "email")
    return mapping


# -- the command line's --map FIELD=COLUMN ---------------------------------------


def _find_column(header: Sequence[str], wanted: str) -> int:
    exact = [i for i, name in enumerate(header) if shown_header(header, i) == wanted.strip()]
    if len(exact) == 1:
        return exact[0]
    key = normalize_header(wanted)
    loose = [i for i, name in enumerate(header) if key and normalize_header(name) == key]
    matches = exact or loose
    if len(matches) == 1:
        return matches[0]
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(header) and not matches:
        return int(wanted) - 1  # `--map email=3`: the third column
    columns = ", ".join(f"'{shown_header(header, i)}'" for i in range(len(header)))
    if matches:
        raise MappingError(f"{len(matches)} columns are called '{wanted}': name it by number")
    raise MappingError(f"there is no column '{wanted}' in the file; its columns: {columns}")


def parse_map_options(
    options: Sequence[str], header: Sequence[str], base: ColumnMapping | None = None
) -> ColumnMapping:
    """Apply `--map FIELD=COLUMN` options (e.g. `email=correo_electronico`,
    `first_name=nombre`, `ignore=note`) to `base` (default: `auto_mapping`).

    The named column gets the field, and a column that had that field before
    loses it. COLUMN is a header name (exact, else ignoring case, spaces, `_`
    and `-`) or a column number from 1. Raises MappingError (a field given twice,
    an unknown field or column, a mapping left without email).
    """
    mapping = base if base is not None else auto_mapping(header)
    given: dict[str, str] = {}
    for option in options:
        field_text, sep, column_text = option.partition("=")
        if not sep or not field_text.strip() or not column_text.strip():
            raise MappingError(f"--map {option!r}: expected FIELD=COLUMN, e.g. email=correo")
        field = FIELD_SPELLINGS.get(field_text.strip().lower().replace("-", "_"))
        if field is None:
            known = ", ".join([*FIELDS, IGNORE])
            raise MappingError(f"--map {option!r}: unknown field '{field_text}' (one of {known})")
        if field != IGNORE and field in given:
            raise MappingError(
                f"--map maps two columns to {FIELD_LABELS[field]}: "
                f"'{given[field]}' and '{column_text}'; give one"
            )
        column = _find_column(header, column_text)
        if field != IGNORE:
            given[field] = column_text
            previous = mapping.index(field)
            if previous is not None and previous != column:
                mapping = mapping.with_field(previous, None)
        mapping = mapping.with_field(column, field)
    return mapping.check()


# -- remembered per header set -----------------------------------------------------


def header_key(header: Sequence[str]) -> list[str]:
    """The header set a mapping is remembered for: its names, sorted (so the same
    columns in another order find it too)."""
    return sorted(shown_header(header, i) for i in range(len(header)))


def _named(mapping: ColumnMapping) -> list[list[object]]:
    """[name, occurrence, field] per mapped column: the column order does not matter."""
    seen: dict[str, int] = {}
    out: list[list[object]] = []
    for index, field in enumerate(mapping.fields):
        name = shown_header(mapping.header, index)
        occurrence = seen.get(name, 0)
        seen[name] = occurrence + 1
        out.append([name, occurrence, field or IGNORE])
    return out


def _load(path: Path) -> list[dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # missing or unreadable: nothing remembered
    entries = data.get("mappings") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def recall(header: Sequence[str], path: Path | None = None) -> ColumnMapping | None:
    """The mapping remembered for this header set, or None."""
    key = header_key(header)
    for entry in _load(path or column_mappings_path()):
        if entry.get("header") != key:
            continue
        by_name: dict[tuple[str, int], str | None] = {}
        columns = entry.get("columns")
        if not isinstance(columns, list):
            return None
        for item in columns:
            if isinstance(item, list) and len(item) == 3:
                name, occurrence, field = item
                if field == IGNORE or field in FIELDS:
                    by_name[(str(name), int(occurrence))] = None if field == IGNORE else field
        seen: dict[str, int] = {}
        fields: list[str | None] = []
        for index in range(len(header)):
            name = shown_header(header, index)
            occurrence = seen.get(name, 0)
            seen[name] = occurrence + 1
            fields.append(by_name.get((name, occurrence)))
        mapping = ColumnMapping(tuple(header), tuple(fields))
        return mapping if mapping.problem() is None else None
    return None


def remember(mapping: ColumnMapping, path: Path | None = None) -> Path:
    """Keep `mapping` for the next file with the same header set (replacing the
    one kept before for it). The file is written 0600, atomically."""
    mapping.check()
    target = path or column_mappings_path()
    key = header_key(mapping.header)
    entries = [e for e in _load(target) if e.get("header") != key]
    entries.append({"header": key, "columns": _named(mapping)})
    write_private_json(target, {"version": 1, "mappings": entries[-REMEMBERED:]})
    return target


def write_private_json(target: Path, data: Mapping[str, object]) -> None:
    """Write `data` to `target` through a 0600 temporary file beside it, renamed over it."""
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
