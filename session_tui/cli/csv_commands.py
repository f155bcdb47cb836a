"""`session-tui import FILE` and `session-tui export FILE`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from session_tui.cli.common import CliError, add_command, open_db, print_json, wants_json

INVALID_SHOWN = 20  # invalid rows listed in the human summary


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "import",
        run_import,
        "import contacts from a CSV file (Ghost, Mailchimp, Kit, session-tui exports…); "
        "one transaction: all or nothing",
    )
    p.add_argument(
        "file",
        metavar="FILE",
        help="the CSV file to import; '-' reads standard input (pipes are read once)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="preview only: report every row's verdict, the counts and the file's "
        "SHA-256 (for --expect-hash), write nothing",
    )
    p.add_argument(
        "--expect-hash",
        metavar="SHA256",
        help="import only if the file's SHA-256 is this one (as printed by --dry-run): "
        "the very bytes that were previewed",
    )
    p.add_argument(
        "--rejects",
        metavar="FILE",
        help="write the invalid rows to FILE (the input's columns plus 'reason'), "
        "ready to fix and import again",
    )
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="let --rejects FILE be a symbolic link (the file it points to is written)",
    )

    e = add_command(
        sub,
        common,
        "export",
        run_export,
        "export contacts to CSV (email, first_name, last_name, status, products, "
        "payment_types, created_at); formula-like cells are escaped with a leading '",
    )
    e.add_argument("file", metavar="FILE", help="the CSV file to write; '-' writes to stdout")
    which = e.add_mutually_exclusive_group()
    which.add_argument(
        "--filter",
        metavar="TEXT",
        help="only contacts matching this filter, e.g. 'product:Course status:active'",
    )
    which.add_argument("--segment", metavar="NAME", help="only contacts of this saved segment")
    e.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="let FILE be a symbolic link (the file it points to is written)",
    )


def _progress_printer(args: argparse.Namespace, unit: str) -> Any:
    if wants_json(args) or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total > 0:
            print(f"\r{done:,} / {total:,} {unit}", end="", file=sys.stderr, flush=True)

    return show


def run_import(args: argparse.Namespace) -> int:
    from session_tui.data.csvio import CsvFormatError
    from session_tui.data.csvio.inputs import spooled

    try:
        with spooled(args.file) as (path, spool):
            return _import(args, path, args.file if spool else "")
    except CsvFormatError as exc:
        raise CliError(str(exc)) from None


def _import(args: argparse.Namespace, path: str, source: str) -> int:
    from session_tui.data.csvio import CsvFormatError, Verdict, import_csv, sniff
    from session_tui.data.csvio.importer import Progress
    from session_tui.data.csvio.inputs import CHANGED
    from session_tui.data.db import DatabaseError
    from session_tui.data.validation import strip_controls

    try:
        layout = sniff(path, source=source)
    except CsvFormatError as exc:
        raise CliError(str(exc)) from None
    expected = (args.expect_hash or "").strip().lower()
    if expected and expected != layout.sha256:
        raise CliError(
            f"{CHANGED} (its SHA-256 is {layout.sha256}, not {strip_controls(expected)}); "
            "nothing was imported"
        )
    show = _progress_printer(args, "bytes")

    def progress(p: Progress) -> None:
        if show is not None and p.stage == "reading":
            show(p.done, p.total)

    db = open_db(args)
    try:
        report = import_csv(
            db,
            layout,
            dry_run=args.dry_run,
            rejects=args.rejects,
            follow_symlinks=args.follow_symlinks,
            progress=progress,
        )
    except (CsvFormatError, DatabaseError) as exc:
        raise CliError(f"{exc}; nothing was imported") from None
    finally:
        db.dispose()
        if show is not None:
            print(file=sys.stderr)

    invalid_rows = [r for r in report.rows if r.verdict is Verdict.INVALID]
    if wants_json(args):
        print_json(
            {
                **report.summary(),
                "data_rows": report.data_rows,
                "dry_run": report.dry_run,
                **layout.describe(),
                "notes": report.notes(),
                "rejects": args.rejects,
                "invalid_rows": [
                    {"line": r.line, "email": r.email, "reason": r.reason} for r in invalid_rows
                ],
            }
        )
        return 0

    def q(value: str) -> str:
        return '"' + strip_controls(value) + '"'

    print(f"file: {strip_controls(args.file)}")
    print(f"sha256: {layout.sha256}")
    print(
        f"encoding: {layout.encoding_name} ({layout.encoding_reason}); "
        f"delimiter: {layout.delimiter_name}"
    )
    print("columns: " + ", ".join(f"{label} <- {q(header)}" for label, header in layout.mapping()))
    if layout.ignored:
        print("ignored columns: " + ", ".join(q(h) for h in layout.ignored))
    for note in report.notes():
        print(f"note: {note}")
    if invalid_rows:
        print("invalid rows:")
        for r in invalid_rows[:INVALID_SHOWN]:
            shown = f" ({strip_controls(r.email)})" if r.email else ""
            print(f"  line {r.line}: {strip_controls(r.reason)}{shown}")
        if report.invalid > INVALID_SHOWN:
            more = report.invalid - INVALID_SHOWN
            print(
                f"  … and {more:,} more"
                + ("" if args.rejects else " (--rejects FILE lists them all)")
            )
    print(
        f"added {report.added:,} · skipped (already exist) {report.skipped:,} · "
        f"duplicates in file {report.duplicates:,} · invalid {report.invalid:,} "
        f"({report.data_rows:,} data rows)"
    )
    if args.rejects:
        print(f"rejects: {report.invalid:,} rows written to {strip_controls(args.rejects)}")
    if report.dry_run:
        print("dry run: nothing was written")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from session_tui.data.csvio.exporter import ExportError, ExportProgress, export_csv
    from session_tui.data.db import DatabaseError
    from session_tui.data.repositories.contacts import ContactQuery
    from session_tui.data.validation import strip_controls

    to_stdout = args.file == "-"
    db = open_db(args)
    try:
        query = ContactQuery(filter=_resolve_filter(db, args.filter, args.segment))
        show = None if to_stdout else _progress_printer(args, "contacts")

        def progress(p: ExportProgress) -> None:
            if show is not None:
                show(p.done, p.total)

        try:
            written = export_csv(
                db,
                args.file,
                query=query,
                progress=progress if show is not None else None,
                follow_symlinks=args.follow_symlinks,
            )
        except (ExportError, DatabaseError) as exc:
            raise CliError(f"{exc}; nothing was exported") from None
        finally:
            if show is not None:
                print(file=sys.stderr)
    finally:
        db.dispose()
    if to_stdout:
        return 0  # stdout holds the CSV itself, --json or not
    if wants_json(args):
        print_json({"exported": written, "file": args.file})
    else:
        print(f"exported {written:,} contacts to {strip_controls(args.file)}")
    return 0


def _resolve_filter(db: Any, text: str | None, segment: str | None) -> Any:
    if text is None and segment is None:
        return None
    from session_tui.data.filters import FilterError
    from session_tui.data.repositories.segments import SegmentError, resolve_filter

    try:
        return resolve_filter(db, text, segment)
    except (FilterError, SegmentError) as exc:
        raise CliError(str(exc)) from None
