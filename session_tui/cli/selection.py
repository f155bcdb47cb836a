"""What the bulk commands share (`contacts delete`, `memberships add|extend|payment|cancel`
with a selector): choosing contacts with --filter / --segment / --emails, and
--dry-run / --yes confirmation.

The ids are resolved once (a frozen list, like the app's selection); the command
then counts what it will do, prints that, and only then asks or writes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from session_tui.cli.commands import Argument, one_of
from session_tui.cli.common import CliError, print_json, wants_json
from session_tui.cli.segments import FILTER_HELP, filter_from_args
from session_tui.data.db import Database
from session_tui.data.validation import strip_controls


@dataclass(frozen=True)
class Selection:
    ids: list[int]
    unknown_emails: list[str]  # --emails / EMAIL… that match no contact
    source: str  # "--filter", "--segment", "--emails" or "EMAIL"


# A selector, then --dry-run and --yes.
BULK_ARGUMENTS = (
    one_of(
        Argument(
            "--filter", metavar="TEXT", help="every contact this filter matches: " + FILTER_HELP
        ),
        Argument("--segment", metavar="NAME", help="every contact a saved segment matches"),
        Argument(
            "--emails",
            metavar="FILE",
            help="the contacts whose emails FILE lists, one a line ('-' = standard input; "
            "blank lines and lines starting with # are ignored)",
        ),
    ),
    Argument("--dry-run", action="store_true", help="print what would be done; write nothing"),
    Argument(
        "-y",
        "--yes",
        action="store_true",
        help="do not ask (required without a terminal when more than one contact is touched)",
    ),
)


def has_selector(args: argparse.Namespace) -> bool:
    return any(getattr(args, name, None) is not None for name in ("filter", "segment", "emails"))


def read_emails(path: str) -> list[str]:
    """The emails a file lists, one a line; '-' reads standard input."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8-sig") as fh:
                text = fh.read()
    except FileNotFoundError:
        raise CliError(f"--emails: no such file: {strip_controls(path)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"--emails: cannot read {strip_controls(path)}: {exc}") from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def select_contacts(
    db: Database, args: argparse.Namespace, emails: Iterable[str] = ()
) -> Selection:
    """The frozen ids the selector (or the EMAIL… positionals) chooses; the emails that
    match no contact are noted on stderr."""
    from session_tui.data.bulk_memberships import contact_ids_for_emails
    from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository

    if getattr(args, "emails", None) is not None:
        ids, unknown = contact_ids_for_emails(db, read_emails(args.emails))
        selection = Selection(ids, unknown, "--emails")
    elif (flt := filter_from_args(db, args)) is not None:
        source = "--filter" if getattr(args, "filter", None) is not None else "--segment"
        selection = Selection(ContactsRepository(db).ids(ContactQuery(filter=flt)), [], source)
    else:
        ids, unknown = contact_ids_for_emails(db, emails)
        selection = Selection(ids, unknown, "EMAIL")
    note_unknown(selection)
    return selection


def note_unknown(selection: Selection) -> None:
    if not selection.unknown_emails:
        return
    shown = ", ".join(strip_controls(e) for e in selection.unknown_emails[:5])
    more = len(selection.unknown_emails) - 5
    tail = f" and {more:,} more" if more > 0 else ""
    n = len(selection.unknown_emails)
    print(
        f"session-tui: note: {n:,} email{'s' if n != 1 else ''} match no contact "
        f"(skipped): {shown}{tail}",
        file=sys.stderr,
    )


def confirm(args: argparse.Namespace, touches: int, question: str) -> bool:
    """May the command write? `--yes`, or at most one contact touched: yes. Otherwise
    ask y/N on the terminal; without one, refuse (CliError, exit 1)."""
    if getattr(args, "yes", False) or touches <= 1:
        return True
    return ask(question, f"add --yes to go ahead: it touches {touches:,} contacts")


def preview_or_stop(
    args: argparse.Namespace,
    out: dict[str, Any],
    sentence: str,
    touches: int,
    question: str,
    *,
    dry_run_note: str,
    cancelled_note: str,
) -> int | None:
    """Print what the command will do (`sentence`; with --json, `out` when it stops here).
    The exit code when it stops (a dry run, nothing to do: 0; not confirmed: 1), or
    None when it may write."""
    if not wants_json(args):
        print(sentence)
    if args.dry_run or touches == 0:
        if wants_json(args):
            print_json(out)
        else:
            print(dry_run_note if args.dry_run else "nothing to do")
        return 0
    if not confirm(args, touches, question):
        print_cancelled(cancelled_note)
        return 1
    return None


def print_cancelled(note: str) -> None:
    print(f"session-tui: {note}", file=sys.stderr)


def ask(question: str, refusal: str) -> bool:
    """y/N on the terminal; without a terminal, CliError(refusal)."""
    if not sys.stdin.isatty():
        raise CliError(f"{refusal} (there is no terminal to ask on); nothing was changed")
    # The question goes to stderr: stdout stays machine-readable (--json).
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def progress_printer(label: str, total: int) -> Callable[[int, int], None] | None:
    """A progress(done, total) callback that writes to a terminal's stderr (else None)."""
    if total < 10_000 or not sys.stderr.isatty():
        return None

    def show(done: int, all_: int) -> None:
        end = "\n" if done >= all_ else ""
        print(f"\r{label}: {done:,} of {all_:,}", end=end, file=sys.stderr, flush=True)

    return show
