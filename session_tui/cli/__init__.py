"""Command line: `session-tui [--db URL]` opens the app; subcommands script it.

Each subcommand lives in its own module with `register(subparsers, common)`.
Errors become one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from session_tui import __version__
from session_tui.cli.common import CliError, Parser, common_parser, run_command

VERSION_TEXT = f"session-tui {__version__}"

# Modules that add subcommands; each has register(subparsers, common).
COMMAND_MODULES = (
    "session_tui.cli.demo",
    "session_tui.cli.csv_commands",
    "session_tui.cli.segments",
    "session_tui.cli.products",
    "session_tui.cli.memberships",
    "session_tui.cli.contacts",
    "session_tui.cli.restore",
    "session_tui.cli.check",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    common = common_parser()
    parser = Parser(
        prog="session-tui",
        description="Browse, filter, edit, import and export a coaching community's contacts "
        "and memberships. Without a command, opens the app.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=VERSION_TEXT)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet
                continue
            raise
        module.register(sub, common)
    return parser


def open_app(args: argparse.Namespace) -> int:
    from session_tui.data.db import DatabaseError, open_database

    try:
        db = open_database(getattr(args, "db", None))
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    from session_tui.ui.app import make_app

    app = make_app(db=db)
    app.run()
    db.dispose()
    return int(app.return_code or 0)


def asks_version(argv: Sequence[str]) -> bool:
    """`session-tui [--db URL] [--json] --version`: answered before the command modules
    (and the data layer they import, ~0.5 s) are loaded; whatever else argparse accepts
    (an abbreviation, `--version` after a command) takes the ordinary path."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--version":
            return True
        if arg == "--db":
            i += 2
        elif arg.startswith("--db=") or arg == "--json":
            i += 1
        else:
            return False
    return False


def main(argv: Sequence[str] | None = None) -> int:
    if asks_version(sys.argv[1:] if argv is None else argv):
        print(VERSION_TEXT)
        raise SystemExit(0)  # as argparse's version action does
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        return run_command(open_app, args)
    return run_command(handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
