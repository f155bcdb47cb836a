"""`session-tui memberships list | add | cancel | extend | payment`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from session_tui.cli.common import (
    CliError,
    add_command,
    open_db,
    print_json,
    print_table,
    show_usage,
    wants_json,
)
from session_tui.data.clock import date_to_dt, parse_date
from session_tui.data.models import PaymentType, Status
from session_tui.data.repositories.memberships import (
    MembershipQuery,
    MembershipRow,
    MembershipsRepository,
    fmt_moment,
)
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.validation import ValidationError

PAYMENTS = [p.value for p in PaymentType]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "memberships",
        help="list, add (grant), cancel and extend memberships",
        description="Memberships: who has which product, how it was paid, until when. "
        "Every change is recorded in the membership's history. Dates are YYYY-MM-DD "
        "(UTC); past dates are allowed for back-filling.",
        parents=[common],
    )
    parser.set_defaults(handler=lambda _args: show_usage(parser))
    msub = parser.add_subparsers(dest="memberships_command", metavar="ACTION")

    p = add_command(msub, common, "list", run_list, "one row per membership with its status")
    p.add_argument("--email", metavar="E", help="only this contact's memberships")
    p.add_argument("--product", metavar="P", help="only memberships of this product")
    p.add_argument("--status", choices=["active", "expired"], help="only active or expired")
    p.add_argument("--payment", choices=PAYMENTS, help="only this payment type")

    p = add_command(
        msub,
        common,
        "add",
        run_add,
        "grant a product to a contact (creates the contact if needed; granting a product "
        "the contact already has reactivates that membership)",
    )
    p.add_argument("email", metavar="EMAIL")
    p.add_argument("product", metavar="PRODUCT")
    p.add_argument("--payment", choices=PAYMENTS, required=True)
    p.add_argument("--started", metavar="DATE", help="start date (default: now)")
    p.add_argument("--expires", metavar="DATE", help="expiry date (default: never expires)")
    p.add_argument("--first-name", default="", help="first name, when the contact is new")
    p.add_argument("--last-name", default="", help="last name, when the contact is new")

    p = add_command(msub, common, "cancel", run_cancel, "cancel a membership (now)")
    p.add_argument("email", metavar="EMAIL")
    p.add_argument("product", metavar="PRODUCT")

    p = add_command(
        msub,
        common,
        "extend",
        run_extend,
        "set a membership's expiry date (`never` = never expires)",
    )
    p.add_argument("email", metavar="EMAIL")
    p.add_argument("product", metavar="PRODUCT")
    p.add_argument("--expires", metavar="DATE", required=True)

    p = add_command(msub, common, "payment", run_payment, "change a membership's payment type")
    p.add_argument("email", metavar="EMAIL")
    p.add_argument("product", metavar="PRODUCT")
    p.add_argument("--payment", choices=PAYMENTS, required=True)


def _date(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return date_to_dt(parse_date(text))
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def _print_rows(args: argparse.Namespace, rows: list[MembershipRow]) -> None:
    if wants_json(args):
        print_json([r.as_json() for r in rows])
        return
    print_table(
        (
            {
                "email": r.email,
                "name": r.full_name,
                "product": r.product,
                "payment": r.payment_type,
                "status": r.status.value,
                "started": fmt_moment(r.started_at),
                "expires": fmt_moment(r.expires_at),
                "cancelled": fmt_moment(r.cancelled_at) if r.cancelled_at else "",
            }
            for r in rows
        ),
        ["email", "name", "product", "payment", "status", "started", "expires", "cancelled"],
    )


def _print_one(args: argparse.Namespace, row: MembershipRow, message: str) -> None:
    if wants_json(args):
        print_json(row.as_json())
    else:
        print(message)


def _with_repo(args: argparse.Namespace, action: Callable[[MembershipsRepository], int]) -> int:
    db = open_db(args)
    try:
        return action(MembershipsRepository(db))
    except ValidationError as exc:
        raise CliError(exc.message) from exc
    finally:
        db.dispose()


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
        _print_rows(args, repo.all(query))
        return 0

    return _with_repo(args, action)


def run_add(args: argparse.Namespace) -> int:
    started = _date(args.started, "--started")
    expires = _date(args.expires, "--expires")

    def action(repo: MembershipsRepository) -> int:
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
        _print_one(
            args,
            m,
            f"{verb} “{m.product}” to {m.email}{extra}: {m.payment_type}, "
            + ("never expires" if m.expires_at is None else f"expires {fmt_moment(m.expires_at)}")
            + f" ({m.status.value})",
        )
        return 0

    return _with_repo(args, action)


def run_cancel(args: argparse.Namespace) -> int:
    def action(repo: MembershipsRepository) -> int:
        m = repo.cancel(repo.require(args.email, args.product).id)
        _print_one(args, m, f"cancelled “{m.product}” of {m.email}")
        return 0

    return _with_repo(args, action)


def run_extend(args: argparse.Namespace) -> int:
    never = args.expires.strip().lower() == "never"
    expires = None if never else _date(args.expires, "--expires")

    def action(repo: MembershipsRepository) -> int:
        m = repo.extend(repo.require(args.email, args.product).id, expires)
        _print_one(
            args,
            m,
            f"“{m.product}” of {m.email} now "
            + ("never expires" if m.expires_at is None else f"expires {fmt_moment(m.expires_at)}")
            + f" ({m.status.value})",
        )
        return 0

    return _with_repo(args, action)


def run_payment(args: argparse.Namespace) -> int:
    def action(repo: MembershipsRepository) -> int:
        m = repo.change_payment(repo.require(args.email, args.product).id, args.payment)
        _print_one(args, m, f"“{m.product}” of {m.email} is now {m.payment_type}")
        return 0

    return _with_repo(args, action)
