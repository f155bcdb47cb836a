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
    parser.add_argument("--version", action="version", version=f"session-tui {__version__}")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        return run_command(open_app, args)
    return run_command(handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
