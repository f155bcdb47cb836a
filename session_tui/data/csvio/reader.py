"""Reading contact CSV files: encoding, delimiter, header mapping, rows (spec §6).

`sniff(path)` looks at a file and returns its `CsvLayout` (encoding, delimiter,
which column became email / first name / last name / full name / created_at,
which columns are ignored, notes for the user) or raises `CsvFormatError` with
a message for the user. `RowSource(layout)` then streams the data rows as
`(line, cells)` pairs, where `line` is the physical line of the file on which
the row starts (1-based, as an editor shows it).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from session_tui.data.validation import strip_controls

SAMPLE_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 << 20  # a header wider than the sample is read on to its end
# The csv module refuses fields over 128 KiB; a long note column (or a 50 MB cell)
# must not make a whole file unreadable: such a row gets its own verdict instead.
FIELD_LIMIT = 128 << 20
csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
_CHUNK = 1 << 20
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class CsvFormatError(Exception):
    """The file cannot be read as a contacts CSV. The message is for the user."""


# Header names, normalised (lower case, without spaces, "_" and "-"), per field.
HEADER_ALIASES: dict[str, str] = {}
for _field, _names in {
    "email": ("email", "emailaddress", "mail", "emailaddr"),
    "first_name": ("firstname", "givenname", "first", "fname", "forename"),
    "last_name": ("lastname", "surname", "familyname", "last", "lname"),
    "full_name": ("name", "fullname"),
    "created_at": ("createdat", "created", "joined", "joinedat", "dateadded"),
}.items():
    for _name in _names:
        HEADER_ALIASES[_name] = _field

FIELD_LABELS = {
    "email": "email",
    "first_name": "first name",
    "last_name": "last name",
    "full_name": "name (split into first and last name)",
    "created_at": "joined (created_at)",
}

_HEADER_JUNK = re.compile(r"[\s_\-]+")
_SEP_LINE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)


def normalize_header(name: str) -> str:
    """`E-Mail Address` -> `emailaddress`: case, spaces, `_` and `-` ignored."""
    text = strip_controls(name.replace("\ufeff", "")).strip().strip('"').lower()
    return _HEADER_JUNK.sub("", text)


@dataclass(frozen=True)
class ColumnMap:
    """Index of the column that holds each field (None = not in the file)."""

    email: int
    first_name: int | None = None
    last_name: int | None = None
    full_name: int | None = None
    created_at: int | None = None

    def used(self) -> dict[str, int]:
        out = {"email": self.email}
        for name in ("first_name", "last_name", "full_name", "created_at"):
            index = getattr(self, name)
            if index is not None:
                out[name] = index
        return out


@dataclass(frozen=True)
class CsvLayout:
    """What `sniff` found out about a file."""

    path: str
    size: int
    encoding: str  # Python codec used to read it
    encoding_name: str  # for people: "UTF-8", "UTF-8 with BOM", "Windows-1252 (cp1252)"
    delimiter: str
    header: tuple[str, ...]
    header_line: int  # physical line of the header row
    columns: ColumnMap
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    def header_name(self, index: int) -> str:
        name = strip_controls(self.header[index]).strip() if index < len(self.header) else ""
        return name or f"(column {index + 1})"

    def mapping(self) -> list[tuple[str, str]]:
        """(field label, header of the column it came from) for each mapped field."""
        return [
            (FIELD_LABELS[name], self.header_name(index))
            for name, index in self.columns.used().items()
        ]

    def describe(self) -> dict[str, object]:
        """A JSON-able description (CLI --json, tests)."""
        return {
            "encoding": self.encoding_name,
            "delimiter": self.delimiter_name,
            "mapping": {
                name: self.header_name(index) for name, index in self.columns.used().items()
            },
            "ignored_columns": list(self.ignored),
            "notes": list(self.notes),
        }


def _display(path: str | os.PathLike[str]) -> str:
    return strip_controls(os.fspath(path))


def _snippet(text: str, limit: int = 80) -> str:
    text = strip_controls(text.replace("\ufeff", "")).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open_binary(path: str | os.PathLike[str]) -> io.BufferedReader:
    name = _display(path)
    try:
        if Path(path).is_dir():
            raise CsvFormatError(f"{name} is a directory, not a CSV file")
        return open(path, "rb")  # noqa: SIM115 - caller closes
    except FileNotFoundError:
        raise CsvFormatError(f"no such file: {name}") from None
    except PermissionError:
        raise CsvFormatError(f"not allowed to read {name}") from None
    except OSError as exc:
        raise CsvFormatError(f"cannot read {name}: {exc.strerror or exc}") from None


def _decodes_fully(path: str | os.PathLike[str], encoding: str) -> tuple[bool, int]:
    """(whether the whole file decodes strictly with `encoding`, offset of the first bad byte)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with _open_binary(path) as f:
        while True:
            chunk = f.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return False, offset + exc.start
            if not chunk:
                return True, -1
            offset += len(chunk)


def detect_encoding(path: str | os.PathLike[str], head: bytes) -> tuple[str, str, list[str]]:
    """(codec, name for people, notes). Raises CsvFormatError for binary files."""
    name = _display(path)
    if head.startswith(codecs.BOM_UTF8):
        encoding, label = "utf-8-sig", "UTF-8 with BOM"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, label = "utf-16", "UTF-16"
    else:
        if head.startswith(b"PK\x03\x04"):
            raise CsvFormatError(
                f"{name} is a spreadsheet or zip file, not CSV: save it as CSV "
                "(comma-separated values) first"
            )
        if b"\x00" in head:
            raise CsvFormatError(
                f"{name} is not a CSV file (it holds binary data): export your contacts "
                "as CSV first"
            )
        encoding, label = "utf-8", "UTF-8"
    ok, bad = _decodes_fully(path, encoding)
    if ok:
        return encoding, label, []
    if encoding != "utf-8":
        raise CsvFormatError(f"{name} is not valid {label} (bad bytes at offset {bad})")
    note = f"the file is not UTF-8 (first non-UTF-8 byte at offset {bad}); read it as Windows-1252"
    if _decodes_fully(path, "cp1252")[0]:
        return (
            "cp1252",
            "Windows-1252 (cp1252)",
            [note + " (cp1252): check accented letters in the preview"],
        )
    return (
        "latin-1",
        "Latin-1 (ISO-8859-1)",
        [note.replace("Windows-1252", "Latin-1") + ": check accented letters in the preview"],
    )


def _map_header(header: list[str]) -> tuple[ColumnMap | None, tuple[str, ...]]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        fld = HEADER_ALIASES.get(normalize_header(name))
        if fld is not None and fld not in found:
            found[fld] = index
    if "email" not in found:
        return None, ()
    if "full_name" in found and ("first_name" in found or "last_name" in found):
        del found["full_name"]  # separate name columns win over a full-name column
    used = set(found.values())
    ignored = []
    for index, name in enumerate(header):
        if index not in used:
            clean = strip_controls(name.replace("\ufeff", "")).strip()
            ignored.append(clean or f"(column {index + 1})")
    return ColumnMap(**found), tuple(ignored)


def _first_record(text: str, delimiter: str) -> tuple[int, list[str]] | None:
    """(line, cells) of the first non-blank record of `text`, or None."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    try:
        for cells in reader:
            line = previous + 1
            previous = reader.line_num
            if cells and any(c.strip() for c in cells):
                return line, cells
    except csv.Error:
        return None
    return None


def _has_header_line(head: bytes) -> bool:
    """Whether `head` holds the whole header line (after blank lines and a `sep=` line)."""
    lines = head.lstrip(b"\xef\xbb\xbf\r\n \t").split(b"\n")
    needed = 2 if lines[0][:4].lower() == b"sep=" else 1
    return len(lines) > needed


def sniff(path: str | os.PathLike[str]) -> CsvLayout:
    """Detect encoding, delimiter and column mapping; CsvFormatError if impossible."""
    name = _display(path)
    with _open_binary(path) as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(SAMPLE_BYTES)
        while not _has_header_line(head) and len(head) < MAX_HEADER_BYTES:
            more = f.read(SAMPLE_BYTES)  # thousands of columns: the header goes on
            if not more:
                break
            head += more
    if not head.strip(b" \t\r\n"):
        raise CsvFormatError(
            f"{name} is empty: nothing to import (expected a header line with an email column)"
        )
    encoding, label, notes = detect_encoding(path, head)
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    sample = decoder.decode(head, final=len(head) >= size)
    if sample.startswith("\ufeff"):
        sample = sample[1:]

    offset_lines = 0
    candidates: tuple[str, ...] = DELIMITERS
    first_line, _, rest = sample.partition("\n")
    sep = _SEP_LINE.match(first_line.rstrip("\r"))
    if sep and sep.group(1) not in '"\r\n':
        candidates = (sep.group(1),)
        sample = rest
        offset_lines = 1

    best: tuple[int, str, int, list[str], ColumnMap, tuple[str, ...]] | None = None
    widest: tuple[int, list[str]] | None = None
    for delimiter in candidates:
        record = _first_record(sample, delimiter)
        if record is None:
            continue
        line, cells = record
        if widest is None or len(cells) > len(widest[1]):
            widest = (line, cells)
        columns, ignored = _map_header(cells)
        if columns is None:
            continue
        # More columns = the more plausible split; ties go to the earlier delimiter.
        if best is None or len(cells) > best[0]:
            best = (len(cells), delimiter, line, cells, columns, ignored)
    if best is None:
        if widest is None:
            raise CsvFormatError(f"{name} has no header line: nothing to import")
        cells = [c for c in widest[1] if c.strip()]
        if any("@" in c for c in cells):
            raise CsvFormatError(
                f"{name}: the first line holds data, not column names; add a header line "
                "with an email column (e.g. email,first_name,last_name)"
            )
        shown = _snippet(", ".join(cells))
        raise CsvFormatError(
            f"{name} has no email column (first line: {shown!r}); name the column "
            "'email', 'e-mail' or 'email address'"
        )
    _, delimiter, line, header, columns, ignored = best
    return CsvLayout(
        path=os.fspath(path),
        size=size,
        encoding=encoding,
        encoding_name=label,
        delimiter=delimiter,
        header=tuple(header),
        header_line=line + offset_lines,
        columns=columns,
        ignored=ignored,
        notes=tuple(notes),
    )


class RowSource:
    """The data rows of a sniffed file: iterate for `(line, cells)`.

    Blank lines are skipped (they are not data rows). Use as a context manager;
    `bytes_read()` tells how far into the file the reader got (for progress).
    """

    def __init__(self, layout: CsvLayout) -> None:
        self.layout = layout
        self._binary: io.BufferedReader | None = None
        self._text: io.TextIOWrapper | None = None

    def __enter__(self) -> RowSource:
        self._binary = _open_binary(self.layout.path)
        self._text = io.TextIOWrapper(self._binary, encoding=self.layout.encoding, newline="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._text is not None:
            self._text.close()
            self._text = None
            self._binary = None

    def bytes_read(self) -> int:
        if self._binary is None or self._binary.closed:
            return self.layout.size
        try:
            return min(self.layout.size, os.lseek(self._binary.fileno(), 0, os.SEEK_CUR))
        except OSError:
            return 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        if self._text is None:
            self.__enter__()
        assert self._text is not None
        # strict: a quote that is never closed, or text after a closing quote, is an
        # error with its line -- not the rest of the file silently read as one cell.
        reader = csv.reader(self._text, delimiter=self.layout.delimiter, strict=True)
        header_line = self.layout.header_line
        previous = 0
        line = 0
        try:
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if line <= header_line or not cells:
                    continue
                yield line, cells
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise CsvFormatError(
                    f'line {previous + 1}: a quote (") opened in this row is never closed'
                ) from None
            raise CsvFormatError(
                f'line {previous + 1}: {exc} -- is a quote (") left open above it?'
            ) from None
        except UnicodeDecodeError:
            raise CsvFormatError(
                f"{_display(self.layout.path)} changed while it was read "
                f"(not {self.layout.encoding_name} any more after line {line})"
            ) from None
        except OSError as exc:
            raise CsvFormatError(
                f"cannot read {_display(self.layout.path)}: {exc.strerror or exc}"
            ) from None


def is_blank(cells: list[str]) -> bool:
    """A row whose cells are all empty (e.g. `,,,` from a spreadsheet) is not a data row."""
    return not any(c.strip() for c in cells)
