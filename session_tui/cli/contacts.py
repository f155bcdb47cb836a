"""`session-tui contacts list | show EMAIL | edit EMAIL | delete EMAIL…` (or a selector)."""

from __future__ import annotations

import argparse
from typing import Any

from session_tui.cli.commands import Argument, Command, CommandGroup
from session_tui.cli.common import (
    CliError,
    print_json,
    print_result,
    print_rows,
    print_table,
    wants_json,
    with_db,
)
from session_tui.cli.memberships import MEMBERSHIP_COLUMNS, membership_cells
from session_tui.cli.moments import fmt_moment
from session_tui.cli.segments import FILTER_ARGUMENTS, filter_from_args
from session_tui.cli.selection import (
    BULK_ARGUMENTS,
    has_selector,
    preview_or_stop,
    progress_printer,
    select_contacts,
)
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery, ContactRow, ContactsRepository
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.validation import ValidationError, strip_controls


def _require(db: Database, email: str) -> ContactRow:
    row = ContactsRepository(db).get_by_email(strip_controls(email))
    if row is None:
        raise CliError(f"there is no contact {strip_controls(email).strip()}")
    return row


# -- list / show -------------------------------------------------------------------------
def run_list(args: argparse.Namespace) -> int:
    from session_tui.data.contact_list import iter_contacts

    if args.limit is not None and args.limit < 0:
        raise CliError("--limit must be 0 or more", code=2)

    def action(db: Database) -> int:
        where = ContactsRepository(db).where(ContactQuery(filter=filter_from_args(db, args)))
        return print_rows(
            args,
            iter_contacts(db, where, args.limit),
            lambda r: r.as_json(),
            lambda r: {
                "email": r.email,
                "name": f"{r.first_name} {r.last_name}".strip(),
                "status": r.status,
                "products": ", ".join(r.products),
                "joined": r.created_at.date(),
            },
            ["email", "name", "status", "products", "joined"],
        )

    return with_db(args, action)


def _contact_json(row: ContactRow) -> dict[str, Any]:
    return {
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "status": row.status.value,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "version": row.version,
    }


def run_show(args: argparse.Namespace) -> int:
    def action(db: Database) -> int:
        row = _require(db, args.email)
        repo = MembershipsRepository(db)
        memberships = repo.for_contact(row.id)
        history = repo.history(row.id)
        if wants_json(args):
            out = _contact_json(row)
            out["memberships"] = [m.as_json() for m in memberships]
            out["history"] = [
                {
                    "at": ev.at.isoformat(),
                    "product": ev.product,
                    "kind": str(ev.kind),
                    "detail": ev.detail,
                    "actor": ev.actor,
                }
                for ev in history
            ]
            print_json(out)
            return 0
        name = strip_controls(row.full_name) or "(no name)"
        print(
            f"{name} <{strip_controls(row.email)}>  status: {row.status.value}  "
            f"joined: {fmt_moment(row.created_at)}"
        )
        print()
        if memberships:
            print_table((membership_cells(m) for m in memberships), MEMBERSHIP_COLUMNS)
        else:
            print("no memberships")
        if history:
            print()
            print_table(
                (
                    {
                        "at": fmt_moment(ev.at),
                        "product": ev.product,
                        "event": str(ev.kind),
                        "detail": ev.detail,
                        "by": ev.actor,
                    }
                    for ev in history
                ),
                ["at", "product", "event", "detail", "by"],
            )
        return 0

    return with_db(args, action)


# -- edit --------------------------------------------------------------------------------
def run_edit(args: argparse.Namespace) -> int:
    from session_tui.data.editing import VersionConflict, update_contact

    if args.new_email is None and args.first is None and args.last is None:
        raise CliError("nothing to change: give --email, --first or --last", code=2)

    def action(db: Database) -> int:
        row = _require(db, args.email)
        try:
            saved = update_contact(
                db,
                row.id,
                row.version,
                row.first_name if args.first is None else args.first,
                row.last_name if args.last is None else args.last,
                row.email if args.new_email is None else args.new_email,
            )
        except VersionConflict as exc:
            raise CliError(exc.message) from exc
        except ValidationError as exc:
            raise CliError(f"{exc.field.replace('_', ' ')}: {exc.message}") from exc
        name = strip_controls(saved.full_name) or "(no name)"
        return print_result(
            args, _contact_json(saved), f"saved: {name} <{strip_controls(saved.email)}>"
        )

    return with_db(args, action)


# -- delete ------------------------------------------------------------------------------
def _delete_sentence(db: Database, ids: list[int]) -> str:
    from session_tui.data.deletion import preview

    first = preview(db, ids, limit=3)
    shown = ", ".join(strip_controls(p.email) for p in first)
    more = len(ids) - len(first)
    tail = f" and {more:,} more" if more > 0 else ""
    noun = "contact" if len(ids) == 1 else "contacts"
    return (
        f"Delete {len(ids):,} {noun} with their memberships and history"
        + (f" ({shown}{tail})" if ids else "")
        + "; a backup file is written first"
    )


def run_delete(args: argparse.Namespace) -> int:
    from session_tui.data.deletion import DeletionCancelled, delete_contacts

    if has_selector(args) and args.emails_given:
        raise CliError("give EMAIL… or --filter, --segment or --emails, not both", code=2)
    if not has_selector(args) and not args.emails_given:
        raise CliError("give EMAIL… or --filter, --segment or --emails", code=2)

    def action(db: Database) -> int:
        selection = select_contacts(db, args, args.emails_given)
        ids = selection.ids
        sentence = _delete_sentence(db, ids)
        out: dict[str, Any] = {
            "dry_run": bool(args.dry_run),
            "selected": len(ids),
            "unknown_emails": selection.unknown_emails,
            "deleted": None,
        }
        stop = preview_or_stop(
            args,
            out,
            sentence,
            len(ids),
            "Delete them?",
            dry_run_note="dry run: nothing was deleted",
            cancelled_note="cancelled; nothing was deleted",
        )
        if stop is not None:
            return stop
        try:
            res = delete_contacts(db, ids, progress=progress_printer("deleting", len(ids)))
        except DeletionCancelled:
            raise CliError("cancelled; nothing was deleted") from None
        out["deleted"] = {
            "contacts": res.contacts,
            "memberships": res.memberships,
            "events": res.events,
            "missing": res.missing,
            "backup": str(res.backup_path),
        }
        gone = f" ({res.missing:,} were already gone)" if res.missing else ""
        return print_result(
            args,
            out,
            f"deleted {res.contacts:,} contacts, {res.memberships:,} memberships, "
            f"{res.events:,} history events{gone}\n"
            f"backup: {res.backup_path}  (put back with: session-tui restore BACKUP)",
        )

    return with_db(args, action)


EMAIL = Argument("email", metavar="EMAIL")

COMMANDS = [
    CommandGroup(
        "contacts",
        "list, show, edit and delete contacts",
        "Contacts: the people. delete writes a backup first "
        "(restore it with `session-tui restore BACKUP`).",
        [
            Command(
                "list",
                run_list,
                "list contacts (all, or those a filter or segment matches), oldest first",
                [
                    FILTER_ARGUMENTS,
                    Argument("--limit", type=int, metavar="N", help="at most N contacts"),
                ],
                examples=[
                    "session-tui contacts list --segment 'New this month' --json",
                    "session-tui contacts list --filter 'domain:gmail.com' --limit 10",
                ],
            ),
            Command(
                "show",
                run_show,
                "one contact with its memberships and their history (newest first)",
                [EMAIL],
                examples=["session-tui contacts show ann@example.com --json"],
            ),
            Command(
                "edit",
                run_edit,
                "change a contact's email or names (validated as in the app; a contact changed "
                "meanwhile by someone else is not overwritten)",
                [
                    EMAIL,
                    Argument("--email", dest="new_email", metavar="NEW", help="the new email"),
                    Argument("--first", metavar="NAME", help="the new first name"),
                    Argument("--last", metavar="NAME", help="the new last name"),
                ],
                examples=[
                    "session-tui contacts edit ann@example.com --email ann@newmail.org --last Smith"
                ],
            ),
            Command(
                "delete",
                run_delete,
                "delete contacts with their memberships and history, after writing a backup file "
                "(session-tui restore BACKUP puts them back)",
                [
                    Argument("emails_given", nargs="*", metavar="EMAIL"),
                    *BULK_ARGUMENTS,
                ],
                examples=[
                    "session-tui contacts delete ann@example.com bob@example.com",
                    "session-tui contacts delete --filter 'status:none joined:<2025-01-01' --yes",
                    "session-tui contacts delete --segment dropouts --dry-run --json",
                ],
            ),
        ],
        examples=[
            "session-tui contacts list --filter 'product:Course status:active' --limit 20",
            "session-tui contacts show ann@example.com",
            "session-tui contacts delete --segment dropouts --dry-run",
        ],
    )
]
