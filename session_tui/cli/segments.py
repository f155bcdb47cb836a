"""`session-tui segments list | show NAME | save NAME --filter TEXT [--force] |
rename OLD NEW | delete NAME` -- saved filters.

Other commands turn `--filter TEXT` / `--segment NAME` into a filter with
`session_tui.data.repositories.segments.resolve_filter(db, text, name)`, or with this
module's FILTER_ARGUMENTS (the two options) and `filter_from_args(db, args)` (errors as
CliError).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from session_tui.cli.commands import NAME, RENAME, Argument, Command, CommandGroup, one_of
from session_tui.cli.common import (
    CliError,
    print_json,
    print_result,
    print_table,
    wants_json,
    with_db,
)
from session_tui.data.db import Database
from session_tui.data.filters import FilterError, FilterSyntaxError, Group, parse, to_dict
from session_tui.data.repositories.segments import (
    SegmentError,
    SegmentRow,
    SegmentsRepository,
    resolve_filter,
)
from session_tui.data.validation import strip_controls

FILTER_HELP = (
    'a filter in the text form, e.g. \'product:"1:1 Coaching" and (status:active or '
    "payment:comped)', 'search:ann domain:gmail.com', 'not product:Course', "
    "'joined:>=2026-01-01', 'expires:30d' (see the README, 'Filters and segments')"
)


# -- for other commands ----------------------------------------------------------------
FILTER_ARGUMENTS = one_of(
    Argument("--filter", metavar="TEXT", help=FILTER_HELP),
    Argument("--segment", metavar="NAME", help="a saved segment's filter"),
)


def filter_from_args(db: Database, args: argparse.Namespace) -> Group | None:
    """The filter `--filter` / `--segment` select (None: neither); CliError otherwise."""
    try:
        return resolve_filter(db, getattr(args, "filter", None), getattr(args, "segment", None))
    except FilterSyntaxError as exc:
        raise CliError(f"--filter: {exc}") from None
    except (FilterError, SegmentError) as exc:
        raise CliError(str(exc)) from None


# -- commands ----------------------------------------------------------------------------
def segment_json(row: SegmentRow, count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": row.name,
        "filter": row.text,
        "tree": to_dict(row.filter) if row.filter is not None else None,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
    if row.problem:
        out["problem"] = row.problem
    if count is not None:
        out["count"] = count
    return out


def _with_repo(args: argparse.Namespace, action: Callable[[SegmentsRepository], int]) -> int:
    """Run `action` on the segments of the database `args` name; the database is
    disposed of afterwards (its connections closed), as every command does."""
    return with_db(args, lambda db: action(SegmentsRepository(db)))


def _warn_unknown_products(db: Database, flt: Group) -> None:
    import sys

    from session_tui.data.repositories.products import ProductsRepository

    known = {n.lower() for n in ProductsRepository(db).names(include_archived=True)}
    for name in flt.products():
        if name.lower() not in known:
            print(
                f"session-tui: note: there is no product named “{strip_controls(name)}” "
                "(yet); the filter matches as if it had no members",
                file=sys.stderr,
            )


def run_list(args: argparse.Namespace) -> int:
    return _with_repo(args, lambda repo: _list(args, repo.all()))


def _list(args: argparse.Namespace, rows: list[SegmentRow]) -> int:
    if wants_json(args):
        print_json([segment_json(r) for r in rows])
        return 0
    if not rows:
        print("no segments (save one with: session-tui segments save NAME --filter TEXT)")
        return 0
    print_table(
        [
            {
                "name": r.name,
                "filter": r.text or ("(unreadable)" if r.problem else "(everyone)"),
                "updated": r.updated_at.replace(microsecond=0),
            }
            for r in rows
        ],
        ["name", "filter", "updated"],
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    return _with_repo(args, lambda repo: _show(args, repo))


def _show(args: argparse.Namespace, repo: SegmentsRepository) -> int:
    from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository

    try:
        row = repo.require(args.name)
    except SegmentError as exc:
        raise CliError(str(exc)) from None
    count = None
    if row.filter is not None:
        count = ContactsRepository(repo.db).count(ContactQuery(filter=row.filter))
    if wants_json(args):
        print_json(segment_json(row, count))
        return 0
    print(f"name:    {strip_controls(row.name)}")
    print(f"filter:  {strip_controls(row.text) if row.filter is not None else row.problem}")
    if count is not None:
        print(f"matches: {count:,} contacts")
    print(f"updated: {row.updated_at.replace(microsecond=0).isoformat(sep=' ')}")
    return 0


def run_save(args: argparse.Namespace) -> int:
    try:
        flt = parse(args.filter)
    except FilterSyntaxError as exc:
        raise CliError(f"--filter: {exc}") from None
    return _with_repo(args, lambda repo: _save(args, repo, flt))


def _save(args: argparse.Namespace, repo: SegmentsRepository, flt: Group) -> int:
    existed = repo.get(args.name) is not None
    try:
        row = repo.save(args.name, flt, overwrite=args.force)
    except SegmentError as exc:
        hint = "; use --force to replace it" if "already exists" in str(exc) else ""
        raise CliError(f"{exc}{hint}") from None
    _warn_unknown_products(repo.db, flt)
    verb = "replaced" if existed else "saved"
    return print_result(
        args,
        segment_json(row),
        f"{verb} segment “{strip_controls(row.name)}”: {strip_controls(row.text)}",
    )


def _change(
    args: argparse.Namespace, done: str, change: Callable[[SegmentsRepository], SegmentRow]
) -> int:
    """Make `change`; say what was `done` to which segment."""

    def run(repo: SegmentsRepository) -> int:
        try:
            row = change(repo)
        except SegmentError as exc:
            raise CliError(str(exc)) from None
        return print_result(args, segment_json(row), f"{done} “{strip_controls(row.name)}”")

    return _with_repo(args, run)


def run_rename(args: argparse.Namespace) -> int:
    return _change(args, "renamed segment to", lambda repo: repo.rename(args.old, args.new))


def run_delete(args: argparse.Namespace) -> int:
    return _change(args, "deleted segment", lambda repo: repo.delete(args.name))


COMMANDS = [
    CommandGroup(
        "segments",
        "list, show, save, rename and delete saved filters (segments)",
        "A segment is a filter saved under a name (unique ignoring case). "
        "Use it with `export --segment NAME` or load it in the app's filter panel (f).",
        [
            Command("list", run_list, "list segments with their filters"),
            Command(
                "show",
                run_show,
                "show a segment's filter and how many contacts it matches now",
                [NAME],
            ),
            Command(
                "save",
                run_save,
                "save a filter as a segment (--force replaces an existing one)",
                [
                    NAME,
                    Argument("--filter", required=True, metavar="TEXT", help=FILTER_HELP),
                    Argument(
                        "--force",
                        action="store_true",
                        help="replace the filter of an existing segment with that name",
                    ),
                ],
            ),
            Command("rename", run_rename, "rename a segment", RENAME),
            Command("delete", run_delete, "delete a segment", [NAME]),
        ],
    )
]
