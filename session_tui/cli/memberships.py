"""`session-tui memberships list | add | cancel | extend | payment`.

add/cancel/extend/payment take EMAIL PRODUCT (one contact) or PRODUCT plus a selector
(--filter, --segment, --emails: many contacts at once, data/bulk_memberships.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from session_tui.cli.commands import Argument, Command, CommandGroup
from session_tui.cli.common import CliError, print_result, print_rows, with_db
from session_tui.cli.moments import fmt_moment
from session_tui.cli.selection import (
    BULK_ARGUMENTS,
    ask,
    has_selector,
    preview_or_stop,
    print_cancelled,
    progress_printer,
    select_contacts,
)
from session_tui.data.bulk_memberships import BulkAction, apply_plan, plan_bulk
from session_tui.data.clock import date_to_dt, parse_date
from session_tui.data.db import Database
from session_tui.data.enums import PaymentType, Status
from session_tui.data.repositories.memberships import (
    MembershipQuery,
    MembershipRow,
    MembershipsRepository,
)
from session_tui.data.repositories.products import ProductsRepository

PAYMENTS = [p.value for p in PaymentType]


def _date(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return date_to_dt(parse_date(text))
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


MEMBERSHIP_COLUMNS = ["product", "payment", "status", "started", "expires", "cancelled"]


def membership_cells(m: MembershipRow) -> dict[str, Any]:
    """A membership as a row of a table for people (the MEMBERSHIP_COLUMNS)."""
    return {
        "product": m.product,
        "payment": m.payment_type,
        "status": m.status.value,
        "started": fmt_moment(m.started_at),
        "expires": fmt_moment(m.expires_at),
        "cancelled": fmt_moment(m.cancelled_at) if m.cancelled_at else "",
    }


def _expiry(m: MembershipRow) -> str:
    """How a membership's end reads: 'never expires (active)', 'expires 2026-12-31 (expired)'."""
    when = "never expires" if m.expires_at is None else f"expires {fmt_moment(m.expires_at)}"
    return f"{when} ({m.status.value})"


def _with_repo(args: argparse.Namespace, action: Callable[[MembershipsRepository], int]) -> int:
    return with_db(args, lambda db: action(MembershipsRepository(db)))


def run_list(args: argparse.Namespace) -> int:
    def action(repo: MembershipsRepository) -> int:
        product_id = None
        if args.product is not None:
            product_id = ProductsRepository(repo.db).require(args.product).id
        query = MembershipQuery(
            email=args.email,
            product_id=product_id,
            status=Status(args.status) if args.status else None,
            payment_type=PaymentType(args.payment) if args.payment else None,
        )
        return print_rows(
            args,
            repo.all(query),
            MembershipRow.as_json,
            lambda r: {"email": r.email, "name": r.full_name, **membership_cells(r)},
            ["email", "name", *MEMBERSHIP_COLUMNS],
        )

    return _with_repo(args, action)


# A change to one membership returns it with the sentence that tells what was done.
OneChange = Callable[[MembershipsRepository], tuple[MembershipRow, str]]


def _one_or_many(args: argparse.Namespace, many: Callable[[], BulkAction], one: OneChange) -> int:
    """With a selector, the bulk action `many` on the chosen contacts; otherwise `one`
    (EMAIL PRODUCT)."""
    if _is_bulk(args):
        return _run_bulk(args, many)

    def action(repo: MembershipsRepository) -> int:
        row, sentence = one(repo)
        return print_result(args, row.as_json(), sentence)

    return _with_repo(args, action)


def run_add(args: argparse.Namespace) -> int:
    started = _date(args.started, "--started")
    expires = _date(args.expires, "--expires")

    def grant(repo: MembershipsRepository) -> tuple[MembershipRow, str]:
        res = repo.grant(
            args.email,
            args.product,
            args.payment,
            expires_at=expires,
            started_at=started,
            first_name=args.first_name,
            last_name=args.last_name,
        )
        m = res.membership
        verb = "reactivated" if res.reactivated else "granted"
        extra = " (new contact)" if res.created_contact else ""
        return m, f"{verb} “{m.product}” to {m.email}{extra}: {m.payment_type}, {_expiry(m)}"

    return _one_or_many(
        args,
        lambda: BulkAction.grant(
            args.product, args.payment, expires, started_at=started, allow_past=args.allow_past
        ),
        grant,
    )


def run_cancel(args: argparse.Namespace) -> int:
    def cancel(repo: MembershipsRepository) -> tuple[MembershipRow, str]:
        m = repo.cancel(repo.require(args.email, args.product).id)
        return m, f"cancelled “{m.product}” of {m.email}"

    return _one_or_many(args, lambda: BulkAction.cancel(args.product), cancel)


def run_extend(args: argparse.Namespace) -> int:
    never = args.expires.strip().lower() == "never"
    expires = None if never else _date(args.expires, "--expires")

    def extend(repo: MembershipsRepository) -> tuple[MembershipRow, str]:
        m = repo.extend(repo.require(args.email, args.product).id, expires)
        return m, f"“{m.product}” of {m.email} now {_expiry(m)}"

    return _one_or_many(
        args, lambda: BulkAction.extend(args.product, expires, allow_past=args.allow_past), extend
    )


def run_payment(args: argparse.Namespace) -> int:
    def change(repo: MembershipsRepository) -> tuple[MembershipRow, str]:
        m = repo.change_payment(repo.require(args.email, args.product).id, args.payment)
        return m, f"“{m.product}” of {m.email} is now {m.payment_type}"

    return _one_or_many(args, lambda: BulkAction.payment(args.product, args.payment), change)


# -- many contacts at once (a selector) ------------------------------------------------
def _is_bulk(args: argparse.Namespace) -> bool:
    """A selector: PRODUCT only (bulk). Otherwise EMAIL PRODUCT, as before. CliError for
    a mix of the two."""
    if has_selector(args):
        if args.email is not None:
            raise CliError(
                "with --filter, --segment or --emails give only the PRODUCT, not an EMAIL",
                code=2,
            )
        if getattr(args, "first_name", "") or getattr(args, "last_name", ""):
            raise CliError("--first-name/--last-name only go with one EMAIL", code=2)
        return True
    if args.email is None:
        raise CliError(
            "give EMAIL and PRODUCT, or PRODUCT with --filter, --segment or --emails", code=2
        )
    if args.dry_run:
        raise CliError("--dry-run goes with --filter, --segment or --emails", code=2)
    return False


def _run_bulk(args: argparse.Namespace, make: Callable[[], BulkAction]) -> int:
    def run(db: Database) -> int:
        action = make()
        selection = select_contacts(db, args)
        plan = plan_bulk(db, action, selection.ids)
        out: dict[str, Any] = {
            "dry_run": bool(args.dry_run),
            "plan": plan.counts.as_json(),
            "result": None,
            "unknown_emails": selection.unknown_emails,
        }
        stop = preview_or_stop(
            args,
            out,
            plan.sentence,
            plan.counts.touched,
            "Go ahead?",
            dry_run_note="dry run: nothing was written",
            cancelled_note="cancelled; nothing was changed",
        )
        if stop is not None:
            return stop
        warning = plan.past_warning
        if warning is not None and not args.allow_past:
            refusal = f"the expiry date is in the past: {warning}; add --allow-past to go ahead"
            if not ask(f"The expiry date is in the past: {warning}. Go ahead?", refusal):
                print_cancelled("cancelled; nothing was changed")
                return 1
        result = apply_plan(
            db,
            plan,
            allow_past=True if warning is not None else None,
            progress=progress_printer(plan.counts.headline(), len(plan.ids)),
        )
        out["result"] = result.counts.as_json()
        return print_result(args, out, f"done: {result.counts.sentence}")

    return with_db(args, run)


# EMAIL PRODUCT (one contact), or PRODUCT with a selector (many: bulk).
TARGETS = (
    Argument(
        "email",
        metavar="EMAIL",
        nargs="?",
        help="one contact; leave it out when choosing contacts with --filter, --segment "
        "or --emails",
    ),
    Argument("product", metavar="PRODUCT"),
    *BULK_ARGUMENTS,
)
ALLOW_PAST = Argument(
    "--allow-past",
    action="store_true",
    help="with a selector: go ahead although the expiry date is in the past "
    "(it makes those memberships expired; without it a terminal is asked once more)",
)
PAYMENT = Argument("--payment", choices=PAYMENTS, required=True)

COMMANDS = [
    CommandGroup(
        "memberships",
        "list, add (grant), cancel and extend memberships",
        "Memberships: who has which product, how it was paid, until when. "
        "Every change is recorded in the membership's history. Dates are YYYY-MM-DD "
        "(UTC); past dates are allowed for back-filling. add, extend, payment and cancel "
        "act on one contact (EMAIL PRODUCT) or, with --filter, --segment or --emails, "
        "on many at once (PRODUCT only): they print what they will do first.",
        [
            Command(
                "list",
                run_list,
                "one row per membership with its status",
                [
                    Argument("--email", metavar="E", help="only this contact's memberships"),
                    Argument("--product", metavar="P", help="only memberships of this product"),
                    Argument(
                        "--status", choices=["active", "expired"], help="only active or expired"
                    ),
                    Argument("--payment", choices=PAYMENTS, help="only this payment type"),
                ],
                examples=["session-tui memberships list --product Course --status active --json"],
            ),
            Command(
                "add",
                run_add,
                "grant a product to a contact (creates the contact if needed; granting a product "
                "the contact already has reactivates that membership). With a selector: to every "
                "chosen contact; already active memberships are left alone",
                [
                    *TARGETS,
                    ALLOW_PAST,
                    PAYMENT,
                    Argument("--started", metavar="DATE", help="start date (default: now)"),
                    Argument(
                        "--expires", metavar="DATE", help="expiry date (default: never expires)"
                    ),
                    Argument(
                        "--first-name", default="", help="first name, when the contact is new"
                    ),
                    Argument("--last-name", default="", help="last name, when the contact is new"),
                ],
                examples=[
                    'session-tui memberships add ann@example.com "1:1 Coaching" --payment paid '
                    "--expires 2026-12-31",
                    'session-tui memberships add "Course" --filter payment:free --payment comped '
                    "--yes",
                    'session-tui memberships add "Course" --emails cohort.txt --payment paid '
                    "--dry-run",
                ],
            ),
            Command(
                "cancel",
                run_cancel,
                "cancel a membership (now); with a selector, the chosen contacts' memberships",
                [*TARGETS],
                examples=[
                    'session-tui memberships cancel ann@example.com "Retreat"',
                    'session-tui memberships cancel "Retreat" --segment dropouts --yes',
                ],
            ),
            Command(
                "extend",
                run_extend,
                "set a membership's expiry date (`never` = never expires); with a selector, of the "
                "chosen contacts' memberships",
                [*TARGETS, ALLOW_PAST, Argument("--expires", metavar="DATE", required=True)],
                examples=[
                    'session-tui memberships extend ann@example.com "Group Program" '
                    "--expires 2026-12-31",
                    'session-tui memberships extend "Group Program" --filter expires:30d '
                    "--expires never --yes",
                ],
            ),
            Command(
                "payment",
                run_payment,
                "change a membership's payment type; with a selector, of the chosen contacts' "
                "memberships",
                [*TARGETS, PAYMENT],
                examples=[
                    'session-tui memberships payment ann@example.com "Course" --payment paid',
                    'session-tui memberships payment "Course" --filter payment:free --payment paid '
                    "--yes",
                ],
            ),
        ],
        examples=[
            'session-tui memberships add ann@example.com "1:1 Coaching" --payment paid',
            'session-tui memberships add "Course" --filter payment:free --payment comped --yes',
            'session-tui memberships cancel "Retreat" --segment dropouts --dry-run',
        ],
    )
]
