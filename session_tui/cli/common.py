"""Helpers every subcommand shares: --db/--json/--config, opening the database,
output, errors and exit codes.

Exit codes (docs/settings.md): 0 ok, 1 refused or failed, 2 usage (also a bad
settings file), 3 conflict or busy (try again), 130 interrupted. With `--json`
an error is one JSON object on stderr: `{"error": "...", "code": "..."}`, code one
of ERROR_CODES.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from session_tui.data.redact import printable

if TYPE_CHECKING:
    from session_tui.config import Settings
    from session_tui.data.db import Database

# The data layer (SQLAlchemy, ~0.3 s to import) is imported by the functions that use
# it, not here: `session-tui --version` never needs it (docs/performance.md).

Row = TypeVar("Row")

EXIT_OK = 0
EXIT_FAILED = 1  # refused or failed
EXIT_USAGE = 2
EXIT_CONFLICT = 3  # conflict or busy: another program got there first; try again
EXIT_INTERRUPTED = 130

# code -> exit code
ERROR_CODES: dict[str, int] = {
    "usage": EXIT_USAGE,
    "config": EXIT_USAGE,
    "not_found": EXIT_FAILED,
    "refused": EXIT_FAILED,
    "failed": EXIT_FAILED,
    "conflict": EXIT_CONFLICT,
    "busy": EXIT_CONFLICT,
    "interrupted": EXIT_INTERRUPTED,
}


class CliError(Exception):
    """An error for the user: one line on stderr, exit code `code`.

    `kind` is the machine-readable code of a `--json` error ("not_found", …);
    without it, `classify` derives one from the exit code, the cause and the message.
    """

    def __init__(self, message: str, code: int = EXIT_FAILED, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            code = ERROR_CODES.get(kind, code)
        self.code = code
        self.kind = kind


# `--json` anywhere on the command line: usage errors (found before there are parsed
# arguments) are JSON too. Set by `session_tui.cli.main`.
_json_errors = False


def set_json_errors(enabled: bool) -> None:
    global _json_errors
    _json_errors = enabled


def format_error(message: str) -> str:
    """The one-line text of an error message (every error goes through here):
    credentials masked, control characters shown as escapes."""
    return printable(str(message)) or "unknown error"


def report_error(message: str, kind: str, *, as_json: bool | None = None) -> int:
    """Print an error on stderr (one line, or a JSON object); return its exit code."""
    text = format_error(message)
    if _json_errors if as_json is None else as_json:
        sys.stderr.write(json.dumps({"error": text, "code": kind}, ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(f"session-tui: error: {text}\n")
    return ERROR_CODES.get(kind, EXIT_FAILED)


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        code = report_error(f"{message} (see '{self.prog} --help')", "usage")
        self.exit(code)


def common_parser() -> argparse.ArgumentParser:
    """--db, --config and --json, accepted by every command anywhere after its name."""
    p = Parser(add_help=False)
    p.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="SQLite path/URL or postgresql://… (default: $SESSION_TUI_DB, else `database` "
        "in config.toml, else the embedded database in the user data directory)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="settings file (default: $SESSION_TUI_CONFIG, else config.toml in the user "
        "config directory; see 'session-tui config path')",
    )
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help='machine-readable output; errors as {"error", "code"} on stderr',
    )
    return p


def show_usage(parser: argparse.ArgumentParser) -> int:
    """A command group called without a subcommand: its help (a JSON usage error with
    --json), exit code 2."""
    if _json_errors:
        return report_error(f"name an action (see '{parser.prog} --help')", "usage")
    parser.print_help()
    return EXIT_USAGE


def with_db(args: argparse.Namespace, action: Callable[[Database], int]) -> int:
    """Open the database, run `action` on it (a ValidationError becomes a CliError),
    dispose of it."""
    from session_tui.data.validation import ValidationError

    db = open_db(args)
    try:
        return action(db)
    except ValidationError as exc:
        raise CliError(exc.message) from exc
    finally:
        db.dispose()


class HelpFormatter(argparse.HelpFormatter):
    """Wraps one-line descriptions as usual; keeps multi-line text (examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def set_example(parser: argparse.ArgumentParser, example: str) -> None:
    lines = example.strip().splitlines()
    body = "\n".join(f"  {line}" for line in lines)
    parser.epilog = f"example{'s' if len(lines) > 1 else ''}:\n{body}\n"
    parser.formatter_class = HelpFormatter


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings file's settings (read once per command); CliError when it is bad."""
    cached = getattr(args, "_settings", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from session_tui import config, locations

    path = locations.config_path(getattr(args, "config", None))
    try:
        settings = config.load(path)
    except config.ConfigError as exc:
        raise CliError(
            f"{exc} (fix it with 'session-tui config edit', or give --db)", kind="config"
        ) from None
    args._settings = settings
    return settings


def open_db(args: argparse.Namespace) -> Database:
    """The database: --db, else $SESSION_TUI_DB, else config.toml's, else the default."""
    from session_tui.data.db import DatabaseError, needs_configured_database, open_database

    arg = getattr(args, "db", None)
    configured = settings_of(args).database if needs_configured_database(arg) else None
    try:
        return open_database(arg, configured=configured)
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


def print_result(args: argparse.Namespace, data: Any, text: str) -> int:
    """What a command did: `data` as JSON with --json, else the line `text`. Exit code 0."""
    if wants_json(args):
        print_json(data)
    else:
        print(text)
    return 0


def print_rows(
    args: argparse.Namespace,
    rows: Iterable[Row],
    as_json: Callable[[Row], Any],
    cells: Callable[[Row], Mapping[str, Any]],
    columns: list[str],
) -> int:
    """`rows` as a JSON list with --json, else as a table of `columns`. Exit code 0."""
    if wants_json(args):
        print_json([as_json(row) for row in rows])
    else:
        print_table((cells(row) for row in rows), columns)
    return 0


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
        settings = getattr(args, "_settings", None)
        return resolve_url(getattr(args, "db", None), getattr(settings, "database", None))
    except Exception:  # noqa: BLE001 - only a better message is at stake
        return ""


# How "nothing by that name" messages start (after an optional "--option: ").
_NOT_FOUND = ("there is no ", "no such ", "no segment named", "no contact ", "no product ")


def _causes(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException, url: str = "") -> tuple[str, str]:
    """(message, code) of an exception that ends a command (on the database at `url`);
    see ERROR_CODES."""
    from sqlalchemy.exc import SQLAlchemyError

    from session_tui.data.db import DatabaseError, describe_error

    message = str(exc)
    if isinstance(exc, SQLAlchemyError):
        message = describe_error(exc, url)
    elif not isinstance(exc, CliError | DatabaseError):
        message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, CliError) and exc.kind:
        return message, exc.kind
    if isinstance(exc, CliError) and exc.code == EXIT_USAGE:
        return message, "usage"
    names = {type(e).__name__ for e in _causes(exc)}
    low = message.lower()
    if "the database is busy" in low or "lock timeout" in low or "database is locked" in low:
        return message, "busy"
    if names & {"VersionConflict", "_Conflict", "StaleDataError"}:
        return message, "conflict"
    subject = re.sub(r"^--[\w-]+: ", "", low)
    if "SegmentNotFound" in names or subject.startswith(_NOT_FOUND) or "not found" in low:
        return message, "not_found"
    if names & {"DatabaseError", "OperationalError", "InterfaceError", "OSError"}:
        return message, "failed"  # could not open / reach / write: not a refusal
    return message, "refused" if isinstance(exc, CliError) else "failed"


def run_command(
    handler: Callable[[argparse.Namespace], int | None], args: argparse.Namespace
) -> int:
    """Run a handler; turn every failure into one line (or JSON) on stderr."""
    as_json = wants_json(args) or _json_errors
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return report_error("interrupted; nothing was changed", "interrupted", as_json=as_json)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback
        message, kind = classify(exc, _url_of(args))
        return report_error(message, kind, as_json=as_json)
