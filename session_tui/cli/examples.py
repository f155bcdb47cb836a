"""An example in every command's `--help` (argparse epilog).

A command may list its own `examples` (cli/commands.py); the others get theirs
from EXAMPLES below, by command path. tests/test_cli_json_errors.py checks
that every command and command group has one.
"""

from __future__ import annotations

import argparse

from session_tui.cli.common import HelpFormatter, set_example

TOP_LEVEL = """\
examples:
  session-tui                       open the app (the database of config.toml, else the default)
  session-tui --db team.db          open the app on another database
  session-tui products list --json  any command: machine-readable output
  session-tui completion bash       print the tab completion script (see docs/settings.md)

exit codes:
  0 ok · 1 refused or failed · 2 usage (also a bad config.toml) · 3 conflict or busy (try again)
  With --json, errors are one JSON object on stderr: {"error": "...", "code": "..."}
  (code: usage, config, not_found, refused, failed, conflict, busy, interrupted).
"""

EXAMPLES: dict[str, str] = {
    "demo": "session-tui demo --contacts 5000 --db demo.db",
    "import": "session-tui import members.csv --dry-run\n"
    "session-tui import members.csv --rejects fix-me.csv --json\n"
    "session-tui import ghost-members.csv --create-products --update-memberships\n"
    "session-tui import socios.csv --map email=correo_electronico --map first_name=nombre",
    "export": "session-tui export active.csv --filter 'status:active product:\"1:1 Coaching\"'\n"
    "session-tui export - --segment 'Lapsed' > lapsed.csv",
    "segments": "session-tui segments list",
    "segments list": "session-tui segments list --json",
    "segments show": "session-tui segments show 'Lapsed'",
    "segments save": "session-tui segments save 'Lapsed' --filter 'status:expired'",
    "segments rename": "session-tui segments rename 'Lapsed' 'Lapsed members'",
    "segments delete": "session-tui segments delete 'Lapsed'",
    "products": "session-tui products list",
    "products list": "session-tui products list --json",
    "products add": "session-tui products add 'Group Course'",
    "products rename": "session-tui products rename 'Group Course' 'Spring Course'",
    "products archive": "session-tui products archive 'Spring Course'",
    "products unarchive": "session-tui products unarchive 'Spring Course'",
    "memberships": "session-tui memberships list --product '1:1 Coaching'",
    "memberships list": "session-tui memberships list --email ann@example.com --json",
    "memberships add": "session-tui memberships add ann@example.com '1:1 Coaching' "
    "--payment paid --expires 2027-01-31",
    "memberships cancel": "session-tui memberships cancel ann@example.com '1:1 Coaching'",
    "memberships extend": "session-tui memberships extend ann@example.com '1:1 Coaching' "
    "--expires 2027-06-30",
    "memberships payment": "session-tui memberships payment ann@example.com '1:1 Coaching' "
    "--payment comped",
    "restore": "session-tui restore --list\n"
    "session-tui restore ~/.local/share/session-tui/backups/deleted-2026-05-01T10-00-00.jsonl.gz",
    "contacts": "session-tui contacts list --filter 'status:active'",
    "contacts list": "session-tui contacts list --filter 'domain:example.com' --json",
    "contacts show": "session-tui contacts show ann@example.com",
    "contacts edit": "session-tui contacts edit ann@example.com --first-name Ann",
    "contacts delete": "session-tui contacts delete --filter 'status:none' --dry-run",
    "check": "session-tui check\nsession-tui check --repair",
    "config": "session-tui config show",
    "config path": "session-tui config path",
    "config show": "session-tui config show --json",
    "config edit": "EDITOR=nano session-tui config edit",
    "config keys": "session-tui config keys | grep contacts.",
    "completion": "session-tui completion bash > ~/.local/share/bash-completion/completions/"
    "session-tui\nsession-tui completion fish > ~/.config/fish/completions/session-tui.fish",
}


def subcommands(
    parser: argparse.ArgumentParser, path: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    """(command path, parser) of every command and command group under `parser`."""
    found: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                child_path = f"{path} {name}".strip()
                found.append((child_path, child))
                found.extend(subcommands(child, child_path))
    return found


def add_examples(parser: argparse.ArgumentParser) -> None:
    parser.epilog = TOP_LEVEL
    parser.formatter_class = HelpFormatter
    for path, child in subcommands(parser):
        if not child.epilog and path in EXAMPLES:
            set_example(child, EXAMPLES[path])
