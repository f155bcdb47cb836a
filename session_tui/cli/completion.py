"""Shell completion (argcomplete): `session-tui completion bash|zsh|fish` prints the
script; the shell then runs `session-tui` with `_ARGCOMPLETE` set on every tab press,
and `autocomplete(parser)` answers and exits.

Completes subcommands, options, file paths, and from the database (the same one a
command would use: --db, $SESSION_TUI_DB, config.toml's `database`, the default)
product names, segment names and emails: the first 50 that start with what was
typed. The completers never create, migrate or lock a database, never print, and
give no candidates when anything goes wrong.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import Any

from session_tui.cli.commands import Argument, Command

SHELLS = ("bash", "zsh", "fish")
LIMIT = 50
PROG = "session-tui"
FILTER_WORDS = (
    "product:", "status:active", "status:expired", "status:none", "payment:paid",
    "payment:free", "payment:comped", "search:", "joined:>=", "joined:<", "expires:30d",
    "domain:", "not ", "and ", "or ",
)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    print(shellcode([PROG], shell=args.shell), end="")
    return 0


COMMANDS = [
    Command(
        "completion",
        run,
        "print the shell completion script for bash, zsh or fish (install: docs/settings.md)",
        [Argument("shell", choices=SHELLS, help="the shell to print the script for")],
    )
]


# -- completers --------------------------------------------------------------------------
def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _database_url(parsed_args: argparse.Namespace | None) -> str | None:
    """The URL a command would open, or None (a SQLite file that does not exist)."""
    from session_tui import config, locations
    from session_tui.data.db import _sqlite_path, needs_configured_database, resolve_url

    arg = getattr(parsed_args, "db", None)
    configured = None
    if needs_configured_database(arg):
        path = locations.config_path(getattr(parsed_args, "config", None))
        configured = config.load(path).database
    url = resolve_url(arg, configured)
    sqlite_file = _sqlite_path(url)
    if sqlite_file is not None:
        if not sqlite_file.is_file():
            return None  # completion never creates a database
        from urllib.parse import quote

        return f"sqlite:///file:{quote(str(sqlite_file))}?mode=ro&uri=true"
    return None if url.startswith("sqlite") else url


def _names(sql_sqlite: str, sql_other: str, prefix: str, parsed_args: Any) -> list[str]:
    """Up to LIMIT values from a read-only connection; [] on any problem."""
    try:
        url = _database_url(parsed_args)
        if url is None:
            return []
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        sqlite = url.startswith("sqlite")
        connect_args: dict[str, Any] = {"timeout": 1} if sqlite else {"connect_timeout": 3}
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(sql_sqlite if sqlite else sql_other),
                    {
                        "pattern": _like_escape(prefix.lower()) + "%",
                        "lo": prefix.lower(),
                        "hi": prefix.lower() + "\U0010ffff",
                        "limit": LIMIT,
                    },
                ).all()
        finally:
            engine.dispose()
        return [str(row[0]) for row in rows if row[0]]
    except Exception:  # noqa: BLE001 - a completer stays silent
        return []


def complete_products(prefix: str = "", parsed_args: Any = None, **_: Any) -> list[str]:
    sql = (
        "SELECT name FROM product WHERE lower(name) LIKE :pattern ESCAPE '\\' "
        "ORDER BY archived, lower(name) LIMIT :limit"
    )
    return _names(sql, sql, prefix, parsed_args)


def complete_segments(prefix: str = "", parsed_args: Any = None, **_: Any) -> list[str]:
    sql = (
        "SELECT name FROM segment WHERE lower(name) LIKE :pattern ESCAPE '\\' "
        "ORDER BY lower(name) LIMIT :limit"
    )
    return _names(sql, sql, prefix, parsed_args)


def complete_emails(prefix: str = "", parsed_args: Any = None, **_: Any) -> list[str]:
    # Emails are stored lower-cased. SQLite: a range on the unique index (fast at a
    # million contacts); PostgreSQL: LIKE (its collation may not order like bytes).
    return _names(
        "SELECT email FROM contact WHERE email >= :lo AND email < :hi ORDER BY email LIMIT :limit",
        "SELECT email FROM contact WHERE email LIKE :pattern ESCAPE '\\' "
        "ORDER BY email LIMIT :limit",
        prefix,
        parsed_args,
    )


def complete_emails_or_products(prefix: str = "", parsed_args: Any = None, **_: Any) -> list[str]:
    """An optional EMAIL before PRODUCT: either may come first."""
    return [*complete_products(prefix, parsed_args), *complete_emails(prefix, parsed_args)][:LIMIT]


def complete_filter(prefix: str = "", **_: Any) -> list[str]:
    word = prefix.rsplit(" ", 1)[-1]
    head = prefix[: len(prefix) - len(word)]
    return [head + w for w in FILTER_WORDS if w.startswith(word.lower())]


Completer = Callable[..., Iterable[str]]


def _completer_for(path: str, action: argparse.Action) -> Completer | None:
    options = set(action.option_strings)
    dest = action.dest
    positional = not options
    group = path.split(" ", 1)[0]
    if "--product" in options or (positional and dest == "product"):
        return complete_products
    if positional and (dest == "email" or action.metavar == "EMAIL") and action.nargs == "?":
        return complete_emails_or_products  # `memberships add [EMAIL] PRODUCT`
    if "--email" in options or (positional and (dest == "email" or action.metavar == "EMAIL")):
        return complete_emails
    if "--segment" in options:
        return complete_segments
    if "--filter" in options:
        return complete_filter
    if positional and dest in ("name", "old"):
        if group == "segments" and path != "segments save":
            return complete_segments
        if group == "products" and path != "products add":
            return complete_products
    return None


def attach_completers(parser: argparse.ArgumentParser) -> None:
    """Give the arguments that name database things their completer."""
    from session_tui.cli.examples import subcommands

    for path, child in [("", parser), *subcommands(parser)]:
        for action in child._actions:
            completer = _completer_for(path, action)
            if completer is not None:
                action.completer = completer  # type: ignore[attr-defined]


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit (no-op without `_ARGCOMPLETE`)."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    attach_completers(parser)
    # Options are offered once a "-" is typed (like git): a bare tab lists commands/values.
    # Names match ignoring case, as the commands find them ("course" -> "Course").
    argcomplete.autocomplete(
        parser, always_complete_options=False, validator=_starts_with_ignoring_case
    )


def _starts_with_ignoring_case(completion: str, prefix: str) -> bool:
    return completion.casefold().startswith(prefix.casefold())
