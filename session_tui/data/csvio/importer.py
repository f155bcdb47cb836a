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

A dry run (`dry_run=True`, the preview) runs the same pass with writers that
insert nothing (import_preview.py): the batch's emails are looked up instead, and
the memberships are decided by the same code and counted, so the preview's
verdicts are exactly what the import would do at that moment.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from session_tui.data.clock import utcnow
from session_tui.data.collector import collector_paused
from session_tui.data.csvio.files import OutputFile
from session_tui.data.csvio.import_memberships import (
    COMP_PRODUCT,
    MembershipCounts,
    MembershipWriter,
    Work,
)
from session_tui.data.csvio.import_preview import MembershipPreview, preview_writer
from session_tui.data.csvio.import_stage import (
    Record,
    StagedRows,
    StageKey,
    StageReader,
    StageWriter,
    same_file,
)
from session_tui.data.csvio.import_writers import ContactWriter, contact_writer
from session_tui.data.csvio.inputs import CsvFormatError
from session_tui.data.csvio.reader import CsvLayout, RowSource, is_blank, sniff
from session_tui.data.csvio.rejects import RejectsWriter, open_rejects, write_rejects
from session_tui.data.csvio.row_parser import (
    Parsed,
    RowParser,
    Specs,
    parse_created,
    printable,
)
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
from session_tui.data.sqlite_bulk import INSERT, LOAD_CACHE_KIB, BulkWrite, bulk_write
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
        memberships: MembershipWriter | None = None,
        update_memberships: bool = False,
    ) -> None:
        self.report = report
        self.writer = writer
        self.memberships = memberships
        self.update_memberships = update_memberships
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
        specs: dict[int, Specs] | None = None,
    ) -> None:
        """Write one batch and give each of its rows its verdict.

        `batch`: every data row in file order as (line, parsed, reason); invalid
        rows have a reason and (raw email, "", "", None). `unique`: the valid rows
        whose email is new to this batch; `first_index`: email -> index in batch.
        `specs`: index in batch -> the memberships of that row (rows naming some).
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
        if specs:
            self._memberships(batch, first_index, specs, ids, max_batch)
        # A RowVerdict is made only for the rows the report keeps: the first
        # `sample_rows`, then rows that are not `new` while `problem_rows` lasts.
        in_sample = self.seen_rows < self.sample_rows
        want_problems = self.problems_kept < self.problem_rows
        clean = len(unique) + n_invalid == len(batch)
        if ids is None and clean and not in_sample and (n_invalid == 0 or not want_problems):
            # The common case: every valid row was new, and none is kept.
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
            if self.seen_rows < self.sample_rows or (
                verdict is not Verdict.NEW and self.problems_kept < self.problem_rows
            ):
                self.keep(RowVerdict(line, verdict, email, parsed[1], parsed[2], reason))
            else:
                self.seen_rows += 1

    def _memberships(
        self,
        batch: list[tuple[int, Parsed, str]],
        first_index: dict[str, int],
        specs: dict[int, Specs],
        ids: dict[str, int] | None,
        max_batch: int,
    ) -> None:
        """The memberships of the batch's new contacts (and, with
        `update_memberships`, of its existing ones), written in the same transaction.
        The verdicts are those `flush` gives (a repeated row's memberships are not
        read: the first row of an email wins)."""
        writer = self.writer
        if ids is None:  # every valid row was new: their ids
            ids = writer.lookup([batch[i][1][0] for i in specs])
        max_before = writer.max_before
        work: list[Work] = []
        for i, row_specs in specs.items():
            email = batch[i][1][0]
            if first_index[email] != i:
                continue  # repeated in the file
            cid = ids.get(email)
            if cid is None:
                continue
            if cid > max_batch:
                work.append((cid, True, row_specs))
            elif cid <= max_before and self.update_memberships:
                work.append((cid, False, row_specs))
        if work and self.memberships is not None:
            self.memberships.write(work)


class _CsvBatches:
    """The file's data rows, parsed, as `Record`s of up to `batch_size` rows (the
    last one may be short, or empty); `done` / `total`: bytes of the file read."""

    def __init__(self, src: RowSource, parser: RowParser, batch_size: int) -> None:
        self.src = src
        self.parser = parser
        self.batch_size = batch_size
        self.total = src.layout.size
        self.rows = 0  # data rows so far
        self.last = False  # the record given last is the file's last

    @property
    def done(self) -> int:
        return self.src.bytes_read()

    @property
    def dates_defaulted(self) -> int:
        return self.parser.dates_defaulted

    def expected_rows(self) -> int:
        """How many rows to expect, after the first record: a low guess (the reader
        is up to a buffer ahead), enough to tell a large load from a small one."""
        if self.last:
            return self.rows
        return self.rows * self.total // max(1, self.src.bytes_read())

    def __iter__(self) -> Iterator[Record]:
        parser = self.parser
        parse = parser.parse
        parse_full = parser.parse_full
        with_members = parser.memberships is not None
        lenient = parser.lenient
        email_col = parser.columns.email
        batch_size = self.batch_size
        rows = 0
        batch: list[tuple[int, Parsed, str]] = []
        first_index: dict[str, int] = {}
        unique: list[Parsed] = []
        n_invalid = 0
        specs: dict[int, Specs] = {}
        rejected: list[tuple[list[str], str]] = []
        result: Parsed | str
        for line, cells in self.src:
            if with_members:
                full = parse_full(cells)
                if isinstance(full, str):
                    result = full
                else:
                    result, row_specs = full
                    if row_specs:
                        specs[len(batch)] = row_specs
            else:
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
                rejected.append((cells, reason))
                shown = strip_controls(raw_email).strip()
                if lenient:
                    shown = printable(shown)
                batch.append((line, (shown, "", "", None), reason))
                n_invalid += 1
            rows += 1
            if len(batch) >= batch_size:
                self.rows = rows
                yield batch, first_index, unique, n_invalid, specs, rejected
                batch, first_index, unique, n_invalid, specs = [], {}, [], 0, {}
                rejected = []
        self.rows = rows
        self.last = True
        yield batch, first_index, unique, n_invalid, specs, rejected


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
    create_products: bool = False,
    update_memberships: bool = False,
    comp_product: str = COMP_PRODUCT,
    stage: bool = False,
    staged: StagedRows | None = None,
) -> ImportReport:
    """Import (or, with `dry_run`, preview) a CSV file in one transaction.

    Memberships named by the file (import_memberships.py) go in with the contacts:
    those of new contacts, and with `update_memberships` those of existing ones
    too; a product that does not exist is created with `create_products`, else
    its memberships are skipped (`ImportReport.products_to_create` lists it).
    `comp_product`: the product of a complimentary plan that names no tier.

    Raises CsvFormatError (file problems), DatabaseError (database problems),
    ImportCancelled (`cancel()` returned true): in every such case nothing was
    written. `rejects` names a file that receives the invalid rows (refused when
    it is the input, the database or a backup: see `open_rejects`).

    A `CsvLayout` from an earlier `sniff` pins the file's content: when the file
    is not the one it describes any more (size, mtime, SHA-256 of the bytes), the
    import fails with "the file changed since the preview: preview again".

    `stage` (with `dry_run`): keep what the preview parsed in a temporary file,
    `report.staged`. `staged` (an import): that stage, read instead of parsing
    the file again when it was made with the same parsing options
    (import_stage.py); it is deleted once the import is committed.
    """
    layout = source if isinstance(source, CsvLayout) else sniff(source)
    report = ImportReport(layout=layout, dry_run=dry_run)
    now = utcnow()
    key = StageKey(layout, comp_product, batch_size)
    from_stage = staged is not None and not dry_run and staged.usable_for(key, now)
    if from_stage:
        same_file(layout)  # the preview read this file: is it still the same?
    parser = RowParser(
        layout.columns,
        lenient=layout.errors != "strict",
        mapping=layout.column_mapping,
        comp_product=comp_product,
        now=now,
    )
    with_members = parser.memberships is not None
    report.has_membership_columns = with_members
    rejects_out: OutputFile | None = None
    rejects_writer: RejectsWriter | None = None
    stage_writer: StageWriter | None = None
    if rejects is not None:
        rejects_out = open_rejects(rejects, layout, db_url=db.url, follow_symlinks=follow_symlinks)
        rejects_writer = RejectsWriter(rejects_out.stream, layout)

    committed = False
    try:
        with ExitStack() as stack:
            stack.enter_context(collector_paused())
            try:
                bulk = stack.enter_context(
                    bulk_write(
                        db,
                        pause=() if dry_run else (INSERT,),
                        cache_kib=LOAD_CACHE_KIB,
                        temp_file=True,  # index builds sort on disk, not in memory
                    )
                )
                writer = preview_writer(bulk) if dry_run else contact_writer(bulk, now)
                writer.begin()
                members = _membership_writer(bulk, now, with_members, create_products, dry_run)
                if isinstance(members, MembershipPreview):
                    members.max_before = writer.max_before
            except Exception as exc:
                raise DatabaseError(describe_error(exc, db.url)) from exc
            run = _Run(
                report,
                writer,
                sample_rows,
                problem_rows,
                memberships=members,
                update_memberships=update_memberships,
            )
            batches: _CsvBatches | StageReader
            if from_stage:
                assert staged is not None
                batches = stack.enter_context(staged.batches())
            else:
                batches = _CsvBatches(stack.enter_context(RowSource(layout)), parser, batch_size)
            if stage and dry_run:
                stage_writer = StageWriter(key)
            try:
                first = True
                for record in batches:
                    if first:
                        writer.expect(batches.expected_rows())
                        first = False
                    if rejects_writer is not None:
                        for cells, reason in record[5]:
                            rejects_writer.write(cells, reason)
                    if stage_writer is not None:
                        stage_writer.write(record)
                    run.flush(*record[:5])
                    if batches.last:
                        break
                    if cancel is not None and cancel():
                        raise ImportCancelled()
                    if progress is not None:
                        progress(Progress(batches.done, batches.total, batches.rows))
                rows = batches.rows
                report.dates_defaulted = batches.dates_defaulted
                if members is not None:
                    _count_memberships(report, members.counts)
                if cancel is not None and cancel():
                    raise ImportCancelled()
                if progress is not None:
                    progress(Progress(batches.total, batches.total, rows, "indexing"))
                writer.finish()
                if dry_run:
                    bulk.rollback()
                    if stage_writer is not None:
                        report.staged = stage_writer.finish(report.dates_defaulted)
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
                progress(Progress(batches.total, batches.total, rows, "done"))
    finally:
        if rejects_out is not None:
            if committed:
                rejects_out.commit()
            else:
                rejects_out.abort()
        if stage_writer is not None and not committed:
            stage_writer.abort()
    if staged is not None and not dry_run:
        staged.discard()  # imported: the preview's rows are done with
    db.analyze(report.added if committed else 0)  # PostgreSQL statistics after a bulk load
    return report


def _membership_writer(
    bulk: BulkWrite, now: datetime, with_members: bool, create_products: bool, dry_run: bool
) -> MembershipWriter | None:
    if not with_members:
        return None
    if dry_run:
        return MembershipPreview(bulk.conn, bulk.dialect, now, create_products=create_products)
    return MembershipWriter(
        bulk.conn, bulk.dialect, now, create_products=create_products, dry_run=False
    )


def _count_memberships(report: ImportReport, counts: MembershipCounts) -> None:
    report.memberships_read = counts.read
    report.memberships_granted = counts.granted
    report.memberships_reactivated = counts.reactivated
    report.memberships_unchanged = counts.unchanged
    report.memberships_skipped = counts.skipped
    report.products_created = counts.created
    report.products_to_create = tuple(sorted(counts.to_create.values(), key=_sort_key))
    report.products_archived = tuple(sorted(counts.archived.values(), key=_sort_key))


def _sort_key(name: str) -> tuple[str, str]:
    return (name.casefold(), name)


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
    create_products: bool = False,
    update_memberships: bool = False,
    stage: bool = False,
) -> ImportReport:
    """The dry run: every row's verdict and the counts; writes nothing (`stage`:
    but keeps the parsed rows for the import, `report.staged`)."""
    return import_csv(
        db,
        source,
        dry_run=True,
        progress=progress,
        cancel=cancel,
        create_products=create_products,
        update_memberships=update_memberships,
        stage=stage,
    )


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
