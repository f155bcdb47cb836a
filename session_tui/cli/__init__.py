"""Command line: `session-tui [--db URL]` opens the app; subcommands script it.

Each subcommand lives in its own module, which lists it in COMMANDS (cli/commands.py).
Errors become one line on stderr (JSON with `--json`) and a documented exit code
(cli/common.py), never a traceback. Keep the imports here light: start-up time
matters, and shell completion runs this module on every tab press.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from session_tui import SCHEMA_VERSION, __version__
from session_tui.cli.common import (
    CliError,
    Parser,
    common_parser,
    run_command,
    set_json_errors,
)

VERSION_TEXT = f"session-tui {__version__} (database schema {SCHEMA_VERSION})"


def build_parser() -> argparse.ArgumentParser:
    # The command modules import the data layer (~0.5 s): loaded here, not for
    # `--version` (see `asks_version`).
    from session_tui.cli import (
        check,
        completion,
        config_cmd,
        contacts,
        csv_commands,
        demo,
        memberships,
        products,
        restore,
        segments,
    )
    from session_tui.cli.commands import add_commands
    from session_tui.cli.examples import add_examples

    common = common_parser()
    parser = Parser(
        prog="session-tui",
        description="Browse, filter, edit, import and export a coaching community's contacts "
        "and memberships. Without a command, opens the app.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=VERSION_TEXT)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Each adds its subcommands; the order is the order of `--help`.
    for module in (
        demo,
        csv_commands,
        segments,
        products,
        memberships,
        contacts,
        restore,
        check,
        config_cmd,
        completion,
    ):
        add_commands(sub, common, module.COMMANDS)
    add_examples(parser)
    return parser


def open_app(args: argparse.Namespace) -> int:
    from session_tui import locations
    from session_tui.data.db import DatabaseError, needs_configured_database, open_database
    from session_tui.ui.app import load_settings, make_app

    # A bad settings file: the app starts with the defaults and says so (a toast).
    settings, problem = load_settings(locations.config_path(getattr(args, "config", None)))
    arg = getattr(args, "db", None)
    configured = settings.database if needs_configured_database(arg) else None
    try:
        db = open_database(arg, configured=configured)
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc

    app = make_app(db=db, settings=settings, config_error=problem)
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
    arguments = list(sys.argv[1:] if argv is None else argv)
    set_json_errors("--json" in arguments)
    if asks_version(arguments):
        print(VERSION_TEXT)
        raise SystemExit(0)  # as argparse's version action does
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (exits)
        from session_tui.cli.completion import autocomplete

        autocomplete(parser)
    args = parser.parse_args(arguments)
    handler = getattr(args, "handler", None)
    if handler is None:
        return run_command(open_app, args)
    return run_command(handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
