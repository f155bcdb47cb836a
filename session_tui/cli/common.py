"""Helpers every subcommand shares: --db/--json, opening the database, output, errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from session_tui.data.redact import printable

if TYPE_CHECKING:
    from session_tui.data.db import Database

# The data layer (SQLAlchemy, ~0.3 s to import) is imported by the functions that use
# it, not here: `session-tui --version` never needs it (docs/performance.md).


class CliError(Exception):
    """An error for the user: printed as one line on stderr, exit code `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"session-tui: error: {printable(message)} (see '{self.prog} --help')\n")


def common_parser() -> argparse.ArgumentParser:
    """--db and --json, accepted by every command anywhere after its name."""
    p = Parser(add_help=False)
    p.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="SQLite path/URL or postgresql://… (default: $SESSION_TUI_DB, else the "
        "embedded database in the user data directory)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable output",
    )
    return p


def show_usage(parser: argparse.ArgumentParser) -> int:
    """A command group called without a subcommand: its help, exit code 2."""
    parser.print_help()
    return 2


def add_command(
    sub: Any,
    common: argparse.ArgumentParser,
    name: str,
    handler: Callable[[argparse.Namespace], int | None],
    help: str,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=help, parents=[common]
    )
    parser.set_defaults(handler=handler)
    return parser


def open_db(args: argparse.Namespace) -> Database:
    from session_tui.data.db import DatabaseError, open_database

    try:
        return open_database(getattr(args, "db", None))
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, default=_default, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_table(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> None:
    """Plain aligned text table for humans (values stripped of control characters)."""
    from session_tui.data.validation import strip_controls

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, datetime | date):
            return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
        return strip_controls(str(v))

    data = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in data]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in data:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _url_of(args: argparse.Namespace) -> str:
    """The database URL a command used, for error messages ("" if unknown)."""
    from session_tui.data.db import resolve_url

    try:
        return resolve_url(getattr(args, "db", None))
    except Exception:  # noqa: BLE001 - only a better message is at stake
        return ""


def run_command(
    handler: Callable[[argparse.Namespace], int | None], args: argparse.Namespace
) -> int:
    """Run a handler; turn every failure into one line on stderr."""
    try:
        return int(handler(args) or 0)
    except CliError as exc:
        print(f"session-tui: error: {printable(str(exc))}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("session-tui: interrupted; nothing was changed", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback
        from sqlalchemy.exc import SQLAlchemyError

        from session_tui.data.db import describe_error

        if isinstance(exc, SQLAlchemyError):
            msg = describe_error(exc, _url_of(args))
        else:
            msg = f"{type(exc).__name__}: {exc}"
        print(f"session-tui: error: {printable(msg)}", file=sys.stderr)
        return 1
