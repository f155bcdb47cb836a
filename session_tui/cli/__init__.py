"""Command line: `session-tui [--db URL]` opens the app; subcommands script it.

Each subcommand lives in its own module, which lists it in COMMANDS (cli/commands.py).
Errors become one line on stderr (JSON with `--json`) and a documented exit code
(cli/common.py), never a traceback. Keep the imports here light: start-up time
matters, and shell completion runs this module on every tab press.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from session_tui import SCHEMA_VERSION, __version__
from session_tui.cli.common import (
    CliError,
    Parser,
    common_parser,
    run_command,
    set_json_errors,
)

if TYPE_CHECKING:
    from session_tui.data.db import Database
    from session_tui.ui.app import SessionApp

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


def prepare_app(args: argparse.Namespace) -> tuple[SessionApp, Database]:
    """The app as `session-tui [--db URL] [--config FILE]` opens it: the settings read,
    the database opened (and migrated when needed), the app made but not run.

    The garbage collector is paused meanwhile, and what the start made is then frozen
    (`gc.freeze`): the modules, classes and app live as long as the process, and each
    collection would scan them all again (a third of the CPU time to the first paint).
    It stays paused until the app has painted its first rows (at most a few seconds:
    `SessionApp.pause_collection_until_painted`); on an error, it resumes at once."""
    gc.disable()
    try:
        app, db = _make_app(args)
    except BaseException:
        gc.freeze()
        gc.enable()
        raise
    gc.freeze()
    app.pause_collection_until_painted()
    return app, db


def _make_app(args: argparse.Namespace) -> tuple[SessionApp, Database]:
    from session_tui import locations
    from session_tui.data.db import DatabaseError, needs_configured_database, open_database
    from session_tui.ui.app import load_settings, make_app
    from session_tui.ui.widgets.contacts.table import start_first_read

    # A bad settings file: the app starts with the defaults and says so (a toast).
    settings, problem = load_settings(locations.config_path(getattr(args, "config", None)))
    arg = getattr(args, "db", None)
    configured = settings.database if needs_configured_database(arg) else None
    try:
        db = open_database(arg, configured=configured)
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    # The Contacts table's first page, read while Textual starts (see start_first_read).
    first_read = start_first_read(db)
    app = make_app(db=db, settings=settings, config_error=problem)
    app.first_read = first_read
    return app, db


def open_app(args: argparse.Namespace) -> int:
    app, db = prepare_app(args)
    app.run()
    db.dispose()
    return int(app.return_code or 0)


# The options every command takes that are followed by a value.
_VALUED = ("--db", "--config")


def _first_other(argv: Sequence[str]) -> str | None:
    """The first argument that is not one of the options every command takes, spelled
    out in full (`--db URL`, `--db=URL`, `--config FILE`, `--config=FILE`, `--json`);
    None when there is none. A value that looks like an option (`--db --json`) counts
    as other: argparse would refuse it, with its own message."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _VALUED:
            if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                return arg
            i += 2
        elif arg == "--json" or arg.startswith(tuple(f"{name}=" for name in _VALUED)):
            i += 1
        else:
            return arg
    return None


def asks_version(argv: Sequence[str]) -> bool:
    """`session-tui [--db URL] [--config FILE] [--json] --version`: answered before the
    command modules (and the data layer they import, ~0.5 s) are loaded; whatever else
    argparse accepts (an abbreviation, `--version` after a command) takes the ordinary
    path."""
    return _first_other(argv) == "--version"


def app_arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """The arguments of a start that only opens the app (no command, only the common
    options spelled out in full), parsed without building the command parsers, whose
    modules the app does not need; None for any other command line (the full parser
    reads it). Shell completion always takes the full parser."""
    if "_ARGCOMPLETE" in os.environ or _first_other(argv) is not None:
        return None
    parser = Parser(prog="session-tui", parents=[common_parser()])
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    set_json_errors("--json" in arguments)
    if asks_version(arguments):
        print(VERSION_TEXT)
        raise SystemExit(0)  # as argparse's version action does
    app_args = app_arguments(arguments)
    if app_args is not None:
        return run_command(open_app, app_args)
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
