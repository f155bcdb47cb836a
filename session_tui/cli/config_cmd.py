"""`session-tui config path|show|edit`: where the settings file is, what it says, edit it."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from session_tui.cli.commands import Command, CommandGroup
from session_tui.cli.common import CliError, print_json, print_result, wants_json


def _path(args: argparse.Namespace) -> Path:
    from session_tui import locations

    return locations.config_path(getattr(args, "config", None))


def _checked(path: Path) -> Any:
    """The settings, checked like the app checks them (binding ids, theme)."""
    from session_tui.ui.keymap import load_settings

    settings, problem = load_settings(path)
    if problem is not None:
        raise CliError(str(problem), kind="config")
    return settings


def run_path(args: argparse.Namespace) -> int:
    path = _path(args)
    return print_result(args, {"path": str(path), "exists": path.is_file()}, str(path))


def run_show(args: argparse.Namespace) -> int:
    from session_tui.config import describe

    path = _path(args)
    settings = _checked(path)
    if wants_json(args):
        print_json(
            {
                "path": str(path),
                "exists": path.is_file(),
                "theme": settings.theme,
                "database": settings.database,
                "confirm_large_delete_above": settings.confirm_large_delete_above,
                "date_format": settings.date_format,
                "keymap": dict(settings.keymap),
            }
        )
        return 0
    state = "" if path.is_file() else " (does not exist: the defaults)"
    print(f"# {path}{state}")
    print(describe(settings), end="")
    return 0


def run_keys(args: argparse.Namespace) -> int:
    from session_tui.cli.common import print_table
    from session_tui.ui.keymap import binding_table

    rows = binding_table(_checked(_path(args)).keymap)
    if wants_json(args):
        print_json(rows)
    else:
        print_table(rows, ["id", "keys", "default", "description"])
    return 0


def run_edit(args: argparse.Namespace) -> int:
    from session_tui.config import TEMPLATE, write_atomically

    path = _path(args)
    if not path.exists():
        try:
            write_atomically(path, TEMPLATE)
        except OSError as exc:
            raise CliError(f"cannot create {path}: {exc.strerror or exc}") from None
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        command = [*shlex.split(editor), str(path)]
        status = subprocess.call(command)
    except (OSError, ValueError) as exc:
        raise CliError(
            f"cannot run the editor {editor!r} ({exc}); set $EDITOR, e.g. EDITOR=nano", kind="usage"
        ) from None
    if status != 0:
        raise CliError(f"the editor {editor!r} exited with code {status}; {path} not checked")
    _checked(path)
    return print_result(args, {"path": str(path), "valid": True}, f"{path}: valid")


COMMANDS = [
    CommandGroup(
        "config",
        "the settings file (config.toml): where it is, what it says, edit it",
        "The settings file: theme, database, keymap, date format, the large "
        "delete confirmation. --config FILE or $SESSION_TUI_CONFIG choose another file.",
        [
            Command("path", run_path, "print the settings file's path (may not exist)"),
            Command("show", run_show, "check the settings file and print the settings in effect"),
            Command(
                "keys",
                run_keys,
                "list every binding id for [keymap], with its default keys and its keys now",
            ),
            Command(
                "edit",
                run_edit,
                "open the settings file in $VISUAL or $EDITOR (a commented template when it is "
                "new), then check it",
            ),
        ],
    )
]
