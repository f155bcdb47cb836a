"""`session-tui check [--repair]`: recompute every contact's status and report (or fix)
the contacts whose stored status is wrong.

Exit code: 0 when every status is right (or all wrong ones were repaired), 1 when
wrong statuses remain.
"""

from __future__ import annotations

import argparse
from typing import Any

from session_tui.cli.commands import Argument, Command
from session_tui.cli.common import open_db, print_json, wants_json


def run(args: argparse.Namespace) -> int:
    from session_tui.data.check import check_statuses, repair_statuses

    db = open_db(args)
    try:
        report = repair_statuses(db) if args.repair else check_statuses(db)
    finally:
        db.dispose()
    if wants_json(args):
        print_json(report.as_json())
    else:
        _print(report)
    return 1 if report.remaining or report.derived.remaining else 0


def _print(report: Any) -> None:
    from session_tui.data.validation import strip_controls

    contacts = f"{report.contacts:,} contact{'' if report.contacts == 1 else 's'}"
    _print_derived(report.derived)
    if not report.differences:
        print(f"checked {contacts}: every status is right")
        return
    print(
        f"checked {contacts}: {report.differences:,} with a wrong status "
        f"(stored 'active until' differs from their memberships)"
    )
    _print_examples(
        [
            f"{strip_controls(d.email)}: stored {_when(d.stored)}, "
            f"should be {_when(d.expected, True)}"
            for d in report.examples
        ],
        report.differences,
    )
    _print_repair(report.repaired, report.remaining, "")


def _print_derived(derived: Any) -> None:
    """The contacts whose sort key or search text is not what their names give."""
    from session_tui.data.validation import strip_controls

    if not derived.differences:
        return
    print(
        f"{derived.differences:,} with a wrong sort key or search text "
        "(they sort out of place or are not found by search)"
    )
    _print_examples([strip_controls(email) for email in derived.examples], derived.differences)
    _print_repair(derived.repaired, derived.remaining, "the sort key and search text of ")


def _print_examples(examples: list[str], differences: int) -> None:
    """The first wrong contacts, then how many more there are."""
    for line in examples:
        print(f"  {line}")
    if differences > len(examples):
        print(f"  … and {differences - len(examples):,} more")


def _print_repair(repaired: int, remaining: int, what: str) -> None:
    """How many were repaired and how many are still wrong (with how to fix them)."""
    if repaired:
        print(f"repaired {what}{repaired:,}")
    if remaining:
        hint = "" if repaired else "; run 'session-tui check --repair' to fix them"
        print(f"{remaining:,} still wrong{hint}")


def _when(value: Any, expected: bool = False) -> str:
    from session_tui.data.clock import FAR_FUTURE

    if value is None:
        return "none (no memberships)" if expected else "none"
    return "never expires" if value == FAR_FUTURE else value.isoformat(sep=" ")


COMMANDS = [
    Command(
        "check",
        run,
        "recompute every contact's status (active until) from its memberships and report "
        "the contacts where the stored one differs; --repair fixes them",
        [
            Argument(
                "--repair",
                action="store_true",
                help="rewrite the wrong statuses (one transaction: all or nothing)",
            )
        ],
    )
]
