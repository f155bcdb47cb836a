"""Reading contact CSV files: encoding, delimiter, header mapping, rows.

`sniff(path)` looks at a file and returns its `CsvLayout` (encoding, delimiter,
which column became email / first name / last name / full name / created_at,
which columns are ignored, notes for the user) or raises `CsvFormatError` with
a message for the user (`NoEmailColumn`, with a proposed `ColumnMapping`, when
no header names the email; `sniff(path, mapping=...)` then reads the file as
the user mapped it). `RowSource(layout)` then streams the data rows as
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
from types import TracebackType

from session_tui.data.csvio.inputs import (
    CHANGED,
    CsvFormatError,
    Fingerprint,
    HashingReader,
    check_unchanged,
    display,
    open_regular,
    scan,
)
from session_tui.data.csvio.mapping import (
    CONTACT_FIELDS,
    ColumnMapping,
    MappingError,
    auto_mapping,
    propose_email,
)
from session_tui.data.csvio.mapping import FIELD_LABELS as MAPPING_LABELS
from session_tui.data.csvio.mapping import HEADER_ALIASES as HEADER_ALIASES  # re-exported
from session_tui.data.csvio.mapping import normalize_header as normalize_header  # re-exported
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


_SEP_LINE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)
# The contact fields, as the preview names them.
FIELD_LABELS = {name: MAPPING_LABELS[name] for name in CONTACT_FIELDS}


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
    # "surrogateescape" when a UTF-8 file has a few bytes that are not UTF-8: the
    # rows holding them become invalid (and go to the rejects file byte for byte).
    errors: str = "strict"
    encoding_reason: str = ""  # why this encoding (the preview shows it)
    fingerprint: Fingerprint | None = None  # what the preview read (size, mtime, sha256)
    source: str = ""  # the name the user gave (`-` for standard input), if not `path`
    # Every column's field, membership columns included (`columns` and `ignored`
    # are about the contact fields only).
    column_mapping: ColumnMapping | None = None

    @property
    def shown_name(self) -> str:
        return strip_controls(self.source or self.path)

    @property
    def sha256(self) -> str:
        return self.fingerprint.sha256 if self.fingerprint is not None else ""

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
            "encoding_reason": self.encoding_reason,
            "sha256": self.sha256,
            "delimiter": self.delimiter_name,
            "mapping": {
                name: self.header_name(index) for name, index in self.columns.used().items()
            },
            "ignored_columns": list(self.ignored),
            "notes": list(self.notes),
        }


_display = display


def _snippet(text: str, limit: int = 80) -> str:
    text = strip_controls(text.replace("\ufeff", "")).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Encoding:
    """How `detect_encoding` decided to read a file."""

    codec: str  # Python codec
    label: str  # for people
    reason: str  # why
    notes: tuple[str, ...]
    errors: str  # decode error handler for the rows
    fingerprint: Fingerprint


def detect_encoding(path: str | os.PathLike[str], head: bytes, name: str = "") -> Encoding:
    """Decide how to read the file (one pass over it). Raises CsvFormatError for
    binary files and for UTF-16/32 files that do not decode.

    A UTF-8 file with a few bytes that are not UTF-8 stays UTF-8: the rows that
    hold them are invalid. Windows-1252 (or Latin-1) is used only when most of
    the file's non-ASCII bytes are not UTF-8.
    """
    name = name or _display(path)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        # Before UTF-16: the UTF-32 LE mark starts with the UTF-16 LE one.
        codec, label = "utf-32", "UTF-32"
    elif head.startswith(codecs.BOM_UTF8):
        codec, label = "utf-8-sig", "UTF-8 with BOM"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec, label = "utf-16", "UTF-16"
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
        codec, label = "utf-8", "UTF-8"
    found = scan(path, codec)
    fp = found.fingerprint
    if codec in ("utf-16", "utf-32"):
        if found.bad:
            raise CsvFormatError(
                f"{name} is not valid {label} (bad bytes at offset {found.first_bad})"
            )
        return Encoding(
            codec, label, "it starts with the " + label + " byte order mark", (), "strict", fp
        )
    if not found.bad:
        why = "every byte is valid UTF-8" if found.non_ascii else "the file is plain ASCII"
        if codec == "utf-8-sig":
            why = "it starts with the UTF-8 byte order mark"
        return Encoding(codec, label, why, (), "strict", fp)
    counted = (
        f"{found.bad:,} of its {found.non_ascii:,} non-ASCII bytes are not valid UTF-8 "
        f"(the first at offset {found.first_bad})"
    )
    if codec == "utf-8-sig" or found.bad * 2 <= found.non_ascii:
        why = f"{counted}: read as UTF-8; the rows holding them are invalid"
        return Encoding(codec, label, why, (why,), "surrogateescape", fp)
    why = f"{counted}: the file is not UTF-8"
    if not scan(path, "cp1252").bad:
        codec, label = "cp1252", "Windows-1252 (cp1252)"
    else:
        codec, label = "latin-1", "Latin-1 (ISO-8859-1)"
    note = f"{why}; read it as {label}: check accented letters in the preview"
    return Encoding(codec, label, f"{why}; read as {label}", (note,), "strict", fp)


class NoEmailColumn(CsvFormatError):
    """No header is recognised as the email. `proposal` maps the columns that
    were recognised, plus the column whose values look like emails if there is
    one (`mapping.propose_email`): a preview offers it to the user, who then
    reads the file again with `sniff(path, mapping=...)`."""

    def __init__(self, message: str, proposal: ColumnMapping, delimiter: str) -> None:
        super().__init__(message)
        self.proposal = proposal
        self.delimiter = delimiter


def _contact_columns(mapping: ColumnMapping) -> tuple[ColumnMap | None, tuple[str, ...]]:
    """The contact fields of `mapping`, and the headers of every other column."""
    used = {name: index for name, index in mapping.used().items() if name in CONTACT_FIELDS}
    if "email" not in used:
        return None, ()
    taken = set(used.values())
    ignored = tuple(
        strip_controls(name.replace("\ufeff", "")).strip() or f"(column {index + 1})"
        for index, name in enumerate(mapping.header)
        if index not in taken
    )
    return ColumnMap(**used), ignored


def _sample_rows(text: str, delimiter: str, complete: bool) -> list[list[str]]:
    """The data rows of a sample `text` (after its header); a broken quote ends them.
    `complete`: `text` is the whole file (else its last row may be cut short)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for cells in reader:
            if not is_blank(cells):
                rows.append(cells)
    except csv.Error:
        complete = False
    return rows[1:] if complete else rows[1:-1]


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


def sniff(
    path: str | os.PathLike[str], *, source: str = "", mapping: ColumnMapping | None = None
) -> CsvLayout:
    """Detect encoding, delimiter and column mapping; CsvFormatError if impossible
    (NoEmailColumn, with a proposed mapping, when no header names the email).

    `source`: the name the user gave when `path` is a copy of it (a spooled pipe).
    `mapping`: the columns as the user mapped them (its header must be the file's;
    the delimiter that splits the header into those columns is used).
    Only regular files are read (`inputs.open_regular`)."""
    name = _display(source or path)
    with open_regular(path) as f:
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
    found = detect_encoding(path, head, name)
    encoding = found.codec
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

    best: tuple[int, str, int, list[str], ColumnMapping] | None = None
    widest: tuple[int, str, list[str]] | None = None
    for delimiter in candidates:
        record = _first_record(sample, delimiter)
        if record is None:
            continue
        line, cells = record
        if widest is None or len(cells) > len(widest[2]):
            widest = (line, delimiter, cells)
        if mapping is not None:
            chosen: ColumnMapping | None = mapping if tuple(cells) == mapping.header else None
        else:
            chosen = auto_mapping(cells)
            if chosen.index("email") is None:
                continue
        if chosen is None:
            continue
        # More columns = the more plausible split; ties go to the earlier delimiter.
        if best is None or len(cells) > best[0]:
            best = (len(cells), delimiter, line, cells, chosen)
    if best is None:
        if widest is None:
            raise CsvFormatError(f"{name} has no header line: nothing to import")
        if mapping is not None:
            raise CsvFormatError(
                f"{name}: its columns are not the ones the mapping was made for; "
                "preview the file again"
            )
        cells = [c for c in widest[2] if c.strip()]
        if any("@" in c for c in cells):
            raise CsvFormatError(
                f"{name}: the first line holds data, not column names; add a header line "
                "with an email column (e.g. email,first_name,last_name)"
            )
        shown = _snippet(", ".join(cells))
        _, delimiter, header = widest
        proposal = auto_mapping(header)
        proposed = propose_email(
            header, _sample_rows(sample, delimiter, complete=len(head) >= size)
        )
        if proposed is not None:
            proposal = proposal.with_field(proposed, "email")
        raise NoEmailColumn(
            f"{name} has no email column (first line: {shown!r}); name the column "
            "'email', 'e-mail' or 'email address'",
            proposal,
            delimiter,
        )
    _, delimiter, line, header, chosen = best
    if mapping is not None:
        try:
            mapping.check()
        except MappingError as exc:
            raise CsvFormatError(f"{name}: {exc}") from None
    columns, ignored = _contact_columns(chosen)
    assert columns is not None  # an email column is mapped (checked above)
    return CsvLayout(
        path=os.fspath(path),
        size=found.fingerprint.size,
        encoding=encoding,
        encoding_name=found.label,
        delimiter=delimiter,
        header=tuple(header),
        header_line=line + offset_lines,
        columns=columns,
        ignored=ignored,
        notes=found.notes,
        errors=found.errors,
        encoding_reason=found.reason,
        fingerprint=found.fingerprint,
        source=source,
        column_mapping=chosen,
    )


class RowSource:
    """The data rows of a sniffed file: iterate for `(line, cells)`.

    Blank lines are skipped (they are not data rows). Use as a context manager;
    `bytes_read()` tells how far into the file the reader got (for progress).
    """

    def __init__(self, layout: CsvLayout) -> None:
        self.layout = layout
        self._binary: io.BufferedReader | None = None
        self._hashing: HashingReader | None = None
        self._text: io.TextIOWrapper | None = None

    def __enter__(self) -> RowSource:
        layout = self.layout
        check_unchanged(layout.path, layout.fingerprint)
        self._hashing = HashingReader(open_regular(layout.path))
        self._binary = io.BufferedReader(self._hashing, buffer_size=_CHUNK)
        self._text = io.TextIOWrapper(
            self._binary, encoding=layout.encoding, errors=layout.errors, newline=""
        )
        return self

    def verify(self) -> None:
        """After the last row: CsvFormatError(CHANGED) unless the bytes read are the
        ones the layout was made from (the preview)."""
        pinned = self.layout.fingerprint
        if pinned is None or self._hashing is None:
            return
        if self._hashing.digest.hexdigest() != pinned.sha256:
            raise CsvFormatError(CHANGED)

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
            self._hashing = None

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
            self.verify()
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise CsvFormatError(
                    f'line {previous + 1}: a quote (") opened in this row is never closed'
                ) from None
            raise CsvFormatError(
                f'line {previous + 1}: {exc} -- is a quote (") left open above it?'
            ) from None
        except UnicodeDecodeError:
            raise CsvFormatError(CHANGED) from None
        except OSError as exc:
            raise CsvFormatError(
                f"cannot read {self.layout.shown_name}: {exc.strerror or exc}"
            ) from None


def is_blank(cells: list[str]) -> bool:
    """A row whose cells are all empty (e.g. `,,,` from a spreadsheet) is not a data row."""
    return not any(c.strip() for c in cells)
