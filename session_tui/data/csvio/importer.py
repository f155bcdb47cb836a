"""Importing contacts from CSV: preview (dry run), verdicts, rejects, one transaction.

Every data row gets one verdict (spec §6):

- `new`: added;
- `exists`: its email is already in the database -- skipped (this wins over
  `duplicate`: a row whose email was in the database before the import is
  always "already exists", however often the file repeats it);
- `duplicate`: an earlier row of the file has the same email (the first wins);
- `invalid`: with a reason (empty or malformed email, name over 200 characters).

added + skipped + duplicates + invalid = the data rows (blank lines and rows of
empty cells are not data rows).

How it stays fast and small at 1,000,000 rows: the file is streamed in batches
of `BATCH` rows; each batch goes into the database with ONE `executemany`
(SQLite) / `INSERT … SELECT FROM unnest(…)` (PostgreSQL) `ON CONFLICT (email)
DO NOTHING` on the raw DBAPI cursor; rows repeated inside a batch are folded in
Python. The database itself is the "seen" set: when a batch inserts fewer rows
than it offered, one indexed look-up of the batch's emails tells which existed
before the import (id <= the largest id when the import began) and which came
from an earlier batch of this import. Writers are kept out for the duration
(SQLite `BEGIN IMMEDIATE`; PostgreSQL `LOCK TABLE contact IN SHARE ROW EXCLUSIVE
MODE`), so every id above that mark is ours. On SQLite the FTS insert trigger
is dropped inside the transaction and the search index is filled with one
`INSERT … SELECT` at the end, with a large FTS5 `hashsize` (then the trigger
and the setting are restored) -- all in the same transaction, so a crash or
kill leaves the database as it was.

A dry run (`dry_run=True`, the preview) runs the very same code and rolls back,
so the preview's verdicts are exactly what the import would do at that moment.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Any, Protocol
from unicodedata import is_normalized

from session_tui.data.clock import MAX_YEAR, MIN_YEAR, SUPPORTED_DATES, utcnow
from session_tui.data.collation import name_key, search_text
from session_tui.data.csvio.escaping import unescape_cell
from session_tui.data.csvio.files import OutputFile, TargetError, open_output
from session_tui.data.csvio.reader import (
    ColumnMap,
    CsvFormatError,
    CsvLayout,
    RowSource,
    is_blank,
    normalize_header,
    sniff,
)
from session_tui.data.db import Database, DatabaseError, describe_error
from session_tui.data.validation import (
    MAX_NAME,
    ValidationError,
    clean_email,
    email_problem,
    normalize_name,
    strip_controls,
)

BATCH = 10_000
PREVIEW_ROWS = 200  # the first rows of the file, whatever their verdict
PROBLEM_ROWS = 1_000  # further rows that are not `new`, for the preview table
_LOOKUP_CHUNK = 2_000


class Verdict(StrEnum):
    NEW = "new"
    EXISTS = "exists"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


VERDICT_LABELS = {
    Verdict.NEW: "new",
    Verdict.EXISTS: "already exists (skipped)",
    Verdict.DUPLICATE: "repeated in the file",
    Verdict.INVALID: "invalid",
}


class ImportCancelled(Exception):
    """The user cancelled the import; nothing was written."""

    def __init__(self) -> None:
        super().__init__("import cancelled: nothing was written")


@dataclass(frozen=True)
class RowVerdict:
    line: int  # physical line of the file where the row starts
    verdict: Verdict
    email: str
    first_name: str
    last_name: str
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    done: int  # bytes of the file read
    total: int  # bytes in the file
    rows: int  # data rows so far
    stage: str = "reading"  # "reading", then "indexing" (search index, SQLite)

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]


@dataclass
class ImportReport:
    layout: CsvLayout
    dry_run: bool
    added: int = 0
    skipped: int = 0
    duplicates: int = 0
    invalid: int = 0
    dates_defaulted: int = 0  # rows whose created_at could not be read: import time used
    rows: list[RowVerdict] = field(default_factory=list)  # sample for the preview

    @property
    def data_rows(self) -> int:
        return self.added + self.skipped + self.duplicates + self.invalid

    def summary(self) -> dict[str, int]:
        """The four counts, under the keys of spec §7."""
        return {
            "added": self.added,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
        }

    def notes(self) -> list[str]:
        notes = list(self.layout.notes)
        if self.dates_defaulted:
            notes.append(
                f"{self.dates_defaulted:,} rows had a created_at that is not a date "
                "(YYYY-MM-DD[THH:MM:SS]); they get the import time as their joined date"
            )
        return notes


# -- parsing one row ------------------------------------------------------------


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


def _stored(value: datetime) -> str:
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
    return _stored(value)


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


class RowParser:
    """Turns a row's cells into a `Parsed` tuple, or a reason why the row is invalid."""

    def __init__(self, columns: ColumnMap, lenient: bool = False) -> None:
        self.columns = columns
        self.lenient = lenient  # the file may hold bytes that are not UTF-8 (see reader)
        self.dates_defaulted = 0  # created_at cells that are not dates

    def raw_email(self, cells: list[str]) -> str:
        i = self.columns.email
        return strip_controls(cells[i]).strip() if i < len(cells) else ""

    def parse(self, cells: list[str]) -> Parsed | str:
        if self.lenient:
            reason = not_utf8_reason(cells)
            if reason is not None:
                return reason
        c = self.columns
        n = len(cells)
        raw = cells[c.email] if c.email < n else ""
        if raw and raw[0] == "'":
            raw = unescape_cell(raw)
        email = raw.strip().lower()
        if not (email.isascii() and email.isprintable()):
            email = clean_email(email)  # NFC, controls removed, domain NFKC
        problem = email_problem(email)
        if problem is not None:
            return problem
        try:
            if c.full_name is not None:
                full = _name(cells[c.full_name] if c.full_name < n else "", "name")
                first, _, last = full.partition(" ")
            else:
                i = c.first_name
                first = _name(cells[i], "first_name") if i is not None and i < n else ""
                i = c.last_name
                last = _name(cells[i], "last_name") if i is not None and i < n else ""
        except ValidationError as exc:
            return exc.message
        created = None
        i = c.created_at
        if i is not None and i < n and cells[i]:
            created = parse_created(cells[i])
            if created is None and cells[i].strip():
                self.dates_defaulted += 1
            elif created is not None and not MIN_YEAR <= int(created[:4]) <= MAX_YEAR:
                return (
                    f"created_at {created[:10]} is outside the supported dates "
                    f"({SUPPORTED_DATES})"
                )
        return (email, first, last, created)


# -- rejects ------------------------------------------------------------------


class RejectsWriter:
    """Writes invalid rows: the input's own header plus a `reason` column.

    The cells are written exactly as they were read, so the file can be fixed
    and imported again. A header whose last column is already `reason` (a
    rejects file imported again) reuses that column.
    """

    def __init__(self, out: IO[str], layout: CsvLayout) -> None:
        header = list(layout.header)
        self._width = len(header)
        self._reused = bool(header) and normalize_header(header[-1]) == "reason"
        if self._reused:
            self._width -= 1
            header = header[:-1]
        self._writer = csv.writer(out, delimiter=layout.delimiter, lineterminator="\r\n")
        self._writer.writerow([*header, "reason"])
        self.count = 0

    def write(self, cells: list[str], reason: str) -> None:
        width = self._width
        if len(cells) <= width:
            self._writer.writerow([*cells, *[""] * (width - len(cells)), reason])
        else:
            # A ragged row: its extra cells follow the reason (an old reason is replaced).
            extra = cells[width + 1 :] if self._reused else cells[width:]
            self._writer.writerow([*cells[:width], reason, *extra])
        self.count += 1


def open_rejects(
    final: str | os.PathLike[str],
    layout: CsvLayout,
    *,
    db_url: str | None = None,
    follow_symlinks: bool = False,
    wait_for_reader: bool = True,
) -> OutputFile:
    """Open the rejects file `final` for writing (UTF-8, with a BOM if the input had
    one; bytes of the input that were not UTF-8 are written back as they were).

    Refused (CsvFormatError) when `final` is the input, the database `db_url` or
    one of its files, a backup, or a symbolic link without `follow_symlinks`
    (`files.check_target`). A regular file is written under a temporary name and
    renamed by `commit()`: 0600 when new, the replaced file's mode otherwise."""
    encoding = "utf-8-sig" if layout.encoding == "utf-8-sig" else "utf-8"
    try:
        return open_output(
            final,
            encoding=encoding,
            errors="surrogateescape",
            db_url=db_url,
            inputs=[layout.path],
            follow_symlinks=follow_symlinks,
            wait_for_reader=wait_for_reader,
        )
    except TargetError as exc:
        raise CsvFormatError(str(exc)) from None


def write_rejects(
    layout: CsvLayout,
    path: str | os.PathLike[str],
    cancel: CancelFn | None = None,
    *,
    db_url: str | None = None,
    follow_symlinks: bool = False,
    wait_for_reader: bool = True,
) -> int:
    """Re-read the input and write its invalid rows to `path`; returns how many.

    Whether a row is invalid depends on the row alone, so this gives the same
    rows as the import reported -- provided the file is still the one the import
    read: it is checked (size, mtime, SHA-256) and refused when it changed.
    """
    parser = RowParser(layout.columns, lenient=layout.errors != "strict")
    output = open_rejects(
        path,
        layout,
        db_url=db_url,
        follow_symlinks=follow_symlinks,
        wait_for_reader=wait_for_reader,
    )
    try:
        with RowSource(layout) as source:
            writer = RejectsWriter(output.stream, layout)
            for _line, cells in source:
                result = parser.parse(cells)
                if isinstance(result, str):
                    if not parser.raw_email(cells) and is_blank(cells):
                        continue
                    writer.write(cells, result)
                    if cancel is not None and writer.count % 1000 == 0 and cancel():
                        raise ImportCancelled()
        output.commit()
    except BaseException:
        output.abort()  # a failed or cancelled write leaves nothing behind
        raise
    return writer.count


# -- the database side --------------------------------------------------------


class _Writer(Protocol):
    max_before: int

    def begin(self) -> None: ...
    def max_id(self) -> int: ...
    def insert(self, rows: list[Parsed]) -> int: ...
    def lookup(self, emails: list[str]) -> dict[str, int]: ...
    def finish(self) -> None: ...
    def release(self) -> None: ...


_INSERT_COLS = (
    "contact (email, first_name, last_name, created_at, updated_at, version, "
    "name_key, search_text)"
)


_FTS_HASHSIZE = 64 << 20  # FTS5 pending-terms buffer during an import (default 1 MB)
# Page cache of the importing connection (the app's connections use 16 MiB): a
# million random-order emails and names make the indexes' pages hot.
_IMPORT_CACHE_KIB = 128 * 1024


class _SqliteWriter:
    """SQLite: `BEGIN IMMEDIATE`; the FTS insert trigger is replaced by one
    `INSERT … SELECT` into the index at the end, with a large FTS5 `hashsize` so
    the index is written in few, large segments (2-3x faster than the default
    at a million rows); trigger and hashsize are restored before commit."""

    def __init__(self, raw: Any, now: datetime, dry_run: bool) -> None:
        self.raw = raw
        self.cur = raw.cursor()
        self.max_before = 0
        self.now = _stored(now)
        self.dry_run = dry_run
        self.trigger_sql: str | None = None
        self.hashsize: int | None = None
        self.cache_size: int | None = None

    def begin(self) -> None:
        cur = self.cur
        self.cache_size = int(cur.execute("PRAGMA cache_size").fetchone()[0])
        cur.execute(f"PRAGMA cache_size = -{_IMPORT_CACHE_KIB}")
        cur.execute("BEGIN IMMEDIATE")
        self.max_before = self.max_id()
        row = cur.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'contact_fts_ai'"
        ).fetchone()
        if row is None:
            return
        self.trigger_sql = row[0]
        cur.execute("DROP TRIGGER contact_fts_ai")
        if not self.dry_run:
            old = cur.execute("SELECT v FROM contact_fts_config WHERE k = 'hashsize'").fetchone()
            self.hashsize = int(old[0]) if old is not None else 1 << 20
            cur.execute(
                "INSERT INTO contact_fts(contact_fts, rank) VALUES ('hashsize', ?)",
                (_FTS_HASHSIZE,),
            )

    def max_id(self) -> int:
        return int(self.cur.execute("SELECT coalesce(max(id), 0) FROM contact").fetchone()[0])

    def insert(self, rows: list[Parsed]) -> int:
        now = self.now
        cur = self.cur
        cur.executemany(
            # OR IGNORE: only the unique email can conflict (every column is given)
            f"INSERT OR IGNORE INTO {_INSERT_COLS} VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            [
                (e, f, la, c or now, now, name_key(f, la), search_text(f, la, e))
                for e, f, la, c in rows
            ],
        )
        return int(cur.rowcount)

    def lookup(self, emails: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(emails), _LOOKUP_CHUNK):
            chunk = emails[i : i + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(
                self.cur.execute(
                    f"SELECT email, id FROM contact WHERE email IN ({marks})", chunk
                ).fetchall()
            )
        return out

    def finish(self) -> None:
        if self.hashsize is not None:
            # One statement: FTS5 flushes its pending terms at every statement
            # boundary, so one INSERT per batch would write many small segments.
            self.cur.execute(
                "INSERT INTO contact_fts(rowid, search_text) "
                "SELECT id, search_text FROM contact WHERE id > ?",
                (self.max_before,),
            )
            self.cur.execute(
                "INSERT INTO contact_fts(contact_fts, rank) VALUES ('hashsize', ?)",
                (self.hashsize,),
            )
        if self.trigger_sql is not None:
            self.cur.execute(self.trigger_sql)

    def release(self) -> None:
        """After commit or rollback: the connection goes back to the pool as it came."""
        if self.cache_size is not None:
            self.cur.execute(f"PRAGMA cache_size = {self.cache_size}")


class _PostgresWriter:
    def __init__(self, raw: Any, now: datetime) -> None:
        self.cur = raw.cursor()
        self.max_before = 0
        self.now = now

    def begin(self) -> None:
        # Blocks other writers of `contact` (readers go on) until commit/rollback.
        self.cur.execute("LOCK TABLE contact IN SHARE ROW EXCLUSIVE MODE")
        self.max_before = self.max_id()

    def max_id(self) -> int:
        self.cur.execute("SELECT coalesce(max(id), 0) FROM contact")
        return int(self.cur.fetchone()[0])

    def insert(self, rows: list[Parsed]) -> int:
        now = self.now
        now_text = _stored(now)
        self.cur.execute(
            f"INSERT INTO {_INSERT_COLS} "
            "SELECT e, f, l, c, %s, 1, k, s FROM unnest(%s::text[], %s::text[], %s::text[], "
            "%s::timestamp[], %s::bytea[], %s::text[]) WITH ORDINALITY AS t(e, f, l, c, k, s, n) "
            "ORDER BY n ON CONFLICT (email) DO NOTHING",
            (
                now,
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] or now_text for r in rows],
                [name_key(r[1], r[2]) for r in rows],
                [search_text(r[1], r[2], r[0]) for r in rows],
            ),
        )
        return int(self.cur.rowcount)

    def lookup(self, emails: list[str]) -> dict[str, int]:
        self.cur.execute("SELECT email, id FROM contact WHERE email = ANY(%s)", (emails,))
        return dict(self.cur.fetchall())

    def finish(self) -> None:
        pass

    def release(self) -> None:
        pass


# -- the import ---------------------------------------------------------------


class _Run:
    """One pass over the file: verdicts, counts, the sample, the writes."""

    def __init__(
        self,
        report: ImportReport,
        writer: _Writer,
        sample_rows: int,
        problem_rows: int,
    ) -> None:
        self.report = report
        self.writer = writer
        self.sample_rows = sample_rows
        self.problem_rows = problem_rows
        self.seen_rows = 0
        self.problems_kept = 0

    def keep(self, verdict: RowVerdict) -> None:
        self.seen_rows += 1
        rows = self.report.rows
        if self.seen_rows <= self.sample_rows:
            rows.append(verdict)
        elif verdict.verdict is not Verdict.NEW and self.problems_kept < self.problem_rows:
            self.problems_kept += 1
            rows.append(verdict)

    def flush(
        self,
        batch: list[tuple[int, Parsed, str]],
        first_index: dict[str, int],
        unique: list[Parsed],
        n_invalid: int,
    ) -> None:
        """Write one batch and give each of its rows its verdict.

        `batch`: every data row in file order as (line, parsed, reason); invalid
        rows have a reason and (raw email, "", "", None). `unique`: the valid rows
        whose email is new to this batch; `first_index`: email -> index in batch.
        """
        if not batch:
            return
        report = self.report
        writer = self.writer
        max_batch = writer.max_id() if unique else 0
        inserted = writer.insert(unique) if unique else 0
        ids: dict[str, int] | None = None
        if inserted != len(unique):
            ids = writer.lookup([u[0] for u in unique])
        want_sample = self.seen_rows < self.sample_rows or self.problems_kept < self.problem_rows
        if ids is None and not want_sample and len(unique) + n_invalid == len(batch):
            # The common case: every valid row was new.
            report.added += len(unique)
            report.invalid += n_invalid
            self.seen_rows += len(batch)
            return
        max_before = writer.max_before
        for i, (line, parsed, reason) in enumerate(batch):
            email = parsed[0]
            if reason:
                verdict = Verdict.INVALID
                report.invalid += 1
            else:
                if ids is None:
                    verdict = Verdict.NEW if first_index[email] == i else Verdict.DUPLICATE
                else:
                    cid = ids.get(email)
                    if cid is None or cid <= max_before:
                        verdict = Verdict.EXISTS
                    elif first_index[email] == i and cid > max_batch:
                        verdict = Verdict.NEW
                    else:
                        verdict = Verdict.DUPLICATE
                if verdict is Verdict.NEW:
                    report.added += 1
                elif verdict is Verdict.EXISTS:
                    report.skipped += 1
                else:
                    report.duplicates += 1
            if want_sample:
                self.keep(RowVerdict(line, verdict, email, parsed[1], parsed[2], reason))
            else:
                self.seen_rows += 1


def import_csv(
    db: Database,
    source: str | os.PathLike[str] | CsvLayout,
    *,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    rejects: str | os.PathLike[str] | None = None,
    follow_symlinks: bool = False,
    batch_size: int = BATCH,
    sample_rows: int = PREVIEW_ROWS,
    problem_rows: int = PROBLEM_ROWS,
) -> ImportReport:
    """Import (or, with `dry_run`, preview) a CSV file in one transaction.

    Raises CsvFormatError (file problems), DatabaseError (database problems),
    ImportCancelled (`cancel()` returned true): in every such case nothing was
    written. `rejects` names a file that receives the invalid rows (refused when
    it is the input, the database or a backup: see `open_rejects`).

    A `CsvLayout` from an earlier `sniff` pins the file's content: when the file
    is not the one it describes any more (size, mtime, SHA-256 of the bytes), the
    import fails with "the file changed since the preview: preview again".
    """
    layout = source if isinstance(source, CsvLayout) else sniff(source)
    report = ImportReport(layout=layout, dry_run=dry_run)
    now = utcnow()
    lenient = layout.errors != "strict"
    parser = RowParser(layout.columns, lenient=lenient)
    email_col = layout.columns.email
    rejects_out: OutputFile | None = None
    rejects_writer: RejectsWriter | None = None
    if rejects is not None:
        rejects_out = open_rejects(rejects, layout, db_url=db.url, follow_symlinks=follow_symlinks)
        rejects_writer = RejectsWriter(rejects_out.stream, layout)

    raw: Any = None
    writer: _Writer | None = None
    committed = False
    try:
        try:
            raw = db.engine.raw_connection()
            writer = _SqliteWriter(raw, now, dry_run) if db.is_sqlite else _PostgresWriter(raw, now)
            writer.begin()
        except Exception as exc:
            raise DatabaseError(describe_error(exc, db.url)) from exc
        run = _Run(report, writer, sample_rows, problem_rows)
        parse = parser.parse
        rows = 0
        batch: list[tuple[int, Parsed, str]] = []
        first_index: dict[str, int] = {}
        unique: list[Parsed] = []
        n_invalid = 0
        with RowSource(layout) as src:
            try:
                for line, cells in src:
                    result = parse(cells)
                    if result.__class__ is tuple:
                        email = result[0]
                        if email not in first_index:
                            first_index[email] = len(batch)
                            unique.append(result)  # type: ignore[arg-type]
                        batch.append((line, result, ""))  # type: ignore[arg-type]
                    else:
                        raw_email = cells[email_col] if email_col < len(cells) else ""
                        if not raw_email.strip() and is_blank(cells):
                            continue  # a blank row is not a data row
                        reason = str(result)
                        if rejects_writer is not None:
                            rejects_writer.write(cells, reason)
                        shown = strip_controls(raw_email).strip()
                        if lenient:
                            shown = printable(shown)
                        batch.append((line, (shown, "", "", None), reason))
                        n_invalid += 1
                    rows += 1
                    if len(batch) >= batch_size:
                        run.flush(batch, first_index, unique, n_invalid)
                        batch, first_index, unique, n_invalid = [], {}, [], 0
                        if cancel is not None and cancel():
                            raise ImportCancelled()
                        if progress is not None:
                            progress(Progress(src.bytes_read(), layout.size, rows))
                run.flush(batch, first_index, unique, n_invalid)
                report.dates_defaulted = parser.dates_defaulted
                if cancel is not None and cancel():
                    raise ImportCancelled()
                if progress is not None:
                    progress(Progress(layout.size, layout.size, rows, "indexing"))
                writer.finish()
                if dry_run:
                    raw.rollback()
                else:
                    raw.commit()
                committed = True
            except (CsvFormatError, ImportCancelled, DatabaseError):
                raise
            except Exception as exc:
                if _is_db_error(exc):
                    raise DatabaseError(describe_error(exc, db.url)) from exc
                raise
        if progress is not None:
            progress(Progress(layout.size, layout.size, rows, "done"))
    finally:
        if raw is not None:
            if not committed:
                try:
                    raw.rollback()
                except Exception:  # noqa: BLE001 - the original error matters more
                    pass
            if writer is not None:
                try:
                    writer.release()
                except Exception:  # noqa: BLE001 - the connection is closed below anyway
                    pass
            raw.close()
        if rejects_out is not None:
            if committed:
                rejects_out.commit()
            else:
                rejects_out.abort()
    db.analyze(report.added if committed else 0)  # PostgreSQL statistics after a bulk load
    return report


def _is_db_error(exc: BaseException) -> bool:
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError | sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, psycopg.Error)


def preview_csv(
    db: Database,
    source: str | os.PathLike[str] | CsvLayout,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ImportReport:
    """The dry run: every row's verdict and the four counts; writes nothing."""
    return import_csv(db, source, dry_run=True, progress=progress, cancel=cancel)
