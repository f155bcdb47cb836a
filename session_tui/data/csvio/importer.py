"""Importing contacts from CSV: preview (dry run), verdicts, rejects, one transaction.

Every data row gets one verdict (verdicts.py): `new`, `exists`, `duplicate` or
`invalid`; added + skipped + duplicates + invalid = the data rows.

How it stays fast and small at 1,000,000 rows: the file is streamed in batches
of `BATCH` rows (row_parser.py turns each row into values or a reason); each
batch goes into the database in one statement, and the database itself is the
"seen" set (import_writers.py). Everything happens in one bulk transaction
(`sqlite_bulk.bulk_write`): on SQLite the FTS insert trigger is paused and the
search index is filled with one `INSERT … SELECT` at the end -- all in the same
transaction, so a crash or kill leaves the database as it was.

A dry run (`dry_run=True`, the preview) runs the very same code and rolls back,
so the preview's verdicts are exactly what the import would do at that moment.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import ExitStack

from sqlalchemy.exc import SQLAlchemyError

from session_tui.data.clock import utcnow
from session_tui.data.csvio.files import OutputFile
from session_tui.data.csvio.import_writers import ContactWriter, contact_writer
from session_tui.data.csvio.inputs import CsvFormatError
from session_tui.data.csvio.reader import CsvLayout, RowSource, is_blank, sniff
from session_tui.data.csvio.rejects import RejectsWriter, open_rejects, write_rejects
from session_tui.data.csvio.row_parser import Parsed, RowParser, parse_created, printable
from session_tui.data.csvio.verdicts import (
    VERDICT_LABELS,
    CancelFn,
    ImportCancelled,
    ImportReport,
    Progress,
    ProgressFn,
    RowVerdict,
    Verdict,
)
from session_tui.data.db import Database, DatabaseError, describe_error
from session_tui.data.sqlite_bulk import INSERT, LOAD_CACHE_KIB, bulk_write
from session_tui.data.validation import strip_controls

BATCH = 10_000
PREVIEW_ROWS = 200  # the first rows of the file, whatever their verdict
PROBLEM_ROWS = 1_000  # further rows that are not `new`, for the preview table


# -- the import ---------------------------------------------------------------


class _Run:
    """One pass over the file: verdicts, counts, the sample, the writes."""

    def __init__(
        self,
        report: ImportReport,
        writer: ContactWriter,
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

    committed = False
    try:
        with ExitStack() as stack:
            try:
                bulk = stack.enter_context(
                    bulk_write(db, pause=(INSERT,), cache_kib=LOAD_CACHE_KIB)
                )
                writer = contact_writer(bulk, now, dry_run)
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
            src = stack.enter_context(RowSource(layout))
            try:
                for line, cells in src:
                    result = parse(cells)
                    if result.__class__ is tuple:
                        email = result[0]
                        if email not in first_index:
                            first_index[email] = len(batch)
                            unique.append(result)
                        batch.append((line, result, ""))
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
                    bulk.rollback()
                else:
                    bulk.commit()
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
        if rejects_out is not None:
            if committed:
                rejects_out.commit()
            else:
                rejects_out.abort()
    db.analyze(report.added if committed else 0)  # PostgreSQL statistics after a bulk load
    return report


def _is_db_error(exc: BaseException) -> bool:
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


__all__ = [
    "BATCH",
    "PREVIEW_ROWS",
    "PROBLEM_ROWS",
    "VERDICT_LABELS",
    "CsvFormatError",
    "ImportCancelled",
    "ImportReport",
    "Progress",
    "RowVerdict",
    "Verdict",
    "import_csv",
    "parse_created",
    "preview_csv",
    "write_rejects",
]
