"""`session-tui import FILE` and `session-tui export FILE`."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from session_tui.cli.commands import Argument, Command, one_of
from session_tui.cli.common import CliError, open_db, print_json, print_result, wants_json

INVALID_SHOWN = 20  # invalid rows listed in the human summary


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
    from session_tui.data.csvio import CsvFormatError, Verdict, import_csv
    from session_tui.data.csvio.importer import Progress
    from session_tui.data.csvio.inputs import CHANGED
    from session_tui.data.db import DatabaseError
    from session_tui.data.validation import strip_controls

    layout = _sniff(args, path, source)
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
            create_products=args.create_products,
            update_memberships=args.update_memberships,
            **({"comp_product": args.comp_product} if args.comp_product else {}),
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
                **report.membership_summary(),
                "products_to_create": list(report.products_to_create),
                "products_archived": list(report.products_archived),
                "headline": report.headline(),
                "data_rows": report.data_rows,
                "dry_run": report.dry_run,
                **layout.describe(),
                **_mapping_json(layout),
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
    print("columns: " + ", ".join(f"{label} <- {q(header)}" for label, header in _columns(layout)))
    ignored = _ignored(layout)
    if ignored:
        print("ignored columns: " + ", ".join(q(h) for h in ignored))
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
    if report.has_membership_columns or report.products_to_create:
        print(report.headline())
        _print_products(report, args)
    if args.rejects:
        print(f"rejects: {report.invalid:,} rows written to {strip_controls(args.rejects)}")
    if report.dry_run:
        print("dry run: nothing was written")
    return 0


def _sniff(args: argparse.Namespace, path: str, source: str) -> Any:
    """The file's layout, with the `--map` options applied; CliError if it cannot be read
    (no email column: the error names the column that looks like emails)."""
    from session_tui.data.csvio import CsvFormatError, sniff
    from session_tui.data.csvio.mapping import MappingError, parse_map_options, shown_header
    from session_tui.data.csvio.reader import NoEmailColumn
    from session_tui.data.validation import strip_controls

    options: list[str] = args.map or []
    try:
        try:
            layout = sniff(path, source=source)
        except NoEmailColumn as exc:
            if options:
                mapping = parse_map_options(options, exc.proposal.header)
                return sniff(path, source=source, mapping=mapping)
            column = exc.proposal.index("email")
            if column is None:
                raise
            name = shown_header(exc.proposal.header, column)
            raise CliError(
                f"{strip_controls(args.file)}: no email column; `{name}` looks like emails: "
                f"--map email={shlex.quote(name)}"
            ) from None
        if options:
            mapping = parse_map_options(options, layout.header, base=layout.column_mapping)
            layout = sniff(path, source=source, mapping=mapping)
        return layout
    except MappingError as exc:
        raise CliError(str(exc)) from None
    except CsvFormatError as exc:
        raise CliError(str(exc)) from None


def _columns(layout: Any) -> list[tuple[str, str]]:
    """(field label, header) of every mapped column, membership columns included."""
    from session_tui.data.csvio.mapping import FIELD_LABELS, MEMBERSHIP_FIELDS

    out: list[tuple[str, str]] = list(layout.mapping())
    mapping = layout.column_mapping
    if mapping is not None:
        for name, index in mapping.used().items():
            if name in MEMBERSHIP_FIELDS:
                out.append((FIELD_LABELS[name], layout.header_name(index)))
    return out


def _ignored(layout: Any) -> tuple[str, ...]:
    mapping = layout.column_mapping
    return tuple(layout.ignored) if mapping is None else tuple(mapping.ignored())


def _mapping_json(layout: Any) -> dict[str, Any]:
    mapping = layout.column_mapping
    if mapping is None:
        return {}
    return {
        "mapping": {name: layout.header_name(i) for name, i in mapping.used().items()},
        "ignored_columns": list(mapping.ignored()),
    }


def _print_products(report: Any, args: argparse.Namespace) -> None:
    from session_tui.data.validation import strip_controls

    if report.products_to_create:
        names = ", ".join(f'"{strip_controls(n)}"' for n in report.products_to_create)
        if report.products_created:
            print(f"products created: {names}")
        elif args.create_products:
            print(f"products to create: {names} (--create-products creates them)")
        else:
            print(
                f"products not found: {names}: their memberships are skipped "
                "(--create-products creates them)"
            )
    if report.has_membership_columns and not args.update_memberships and report.skipped:
        print(
            "existing contacts keep their memberships "
            "(--update-memberships grants the file's to them too)"
        )


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
    return print_result(
        args,
        {"exported": written, "file": args.file},
        f"exported {written:,} contacts to {strip_controls(args.file)}",
    )


def _resolve_filter(db: Any, text: str | None, segment: str | None) -> Any:
    if text is None and segment is None:
        return None
    from session_tui.data.filters import FilterError
    from session_tui.data.repositories.segments import SegmentError, resolve_filter

    try:
        return resolve_filter(db, text, segment)
    except (FilterError, SegmentError) as exc:
        raise CliError(str(exc)) from None


COMMANDS = [
    Command(
        "import",
        run_import,
        "import contacts from a CSV file (Ghost, Mailchimp, Kit, session-tui exports…); "
        "one transaction: all or nothing",
        [
            Argument(
                "file",
                metavar="FILE",
                help="the CSV file to import; '-' reads standard input (pipes are read once)",
            ),
            Argument(
                "--dry-run",
                action="store_true",
                help="preview only: report every row's verdict, the counts and the file's "
                "SHA-256 (for --expect-hash), write nothing",
            ),
            Argument(
                "--expect-hash",
                metavar="SHA256",
                help="import only if the file's SHA-256 is this one (as printed by --dry-run): "
                "the very bytes that were previewed",
            ),
            Argument(
                "--rejects",
                metavar="FILE",
                help="write the invalid rows to FILE (the input's columns plus 'reason'), "
                "ready to fix and import again",
            ),
            Argument(
                "--follow-symlinks",
                action="store_true",
                help="let --rejects FILE be a symbolic link (the file it points to is written)",
            ),
            Argument(
                "--map",
                metavar="FIELD=COLUMN",
                action="append",
                default=[],
                help="read FIELD from COLUMN (a header, or a column number from 1); repeatable, "
                "e.g. --map email=correo_electronico --map first_name=nombre. Fields: email, "
                "first_name, last_name, full_name, created_at, products, payment_types, tiers, "
                "complimentary, memberships, ignore",
            ),
            Argument(
                "--create-products",
                action="store_true",
                help="create the products the file names that do not exist (without it, "
                "their memberships are skipped and the products listed)",
            ),
            Argument(
                "--update-memberships",
                action="store_true",
                help="also grant the file's memberships to contacts that already exist "
                "(their contact details are left alone; a cancelled or expired membership "
                "is reactivated)",
            ),
            Argument(
                "--comp-product",
                metavar="NAME",
                default=None,
                help="the product of a Ghost complimentary_plan that names no tier "
                "(default: 'Complimentary')",
            ),
        ],
    ),
    Command(
        "export",
        run_export,
        "export contacts to CSV (email, first_name, last_name, status, products, "
        "payment_types, created_at, memberships -- the lossless JSON list of each "
        "contact's memberships: product, payment type, status, started, expires, "
        "cancelled); formula-like cells are escaped with a leading '",
        [
            Argument("file", metavar="FILE", help="the CSV file to write; '-' writes to stdout"),
            one_of(
                Argument(
                    "--filter",
                    metavar="TEXT",
                    help="only contacts matching this filter, e.g. 'product:Course status:active'",
                ),
                Argument("--segment", metavar="NAME", help="only contacts of this saved segment"),
            ),
            Argument(
                "--follow-symlinks",
                action="store_true",
                help="let FILE be a symbolic link (the file it points to is written)",
            ),
        ],
    ),
]
