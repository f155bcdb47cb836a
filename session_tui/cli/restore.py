"""`session-tui restore BACKUP`: put back the contacts of a deletion backup file."""

from __future__ import annotations

import argparse
from datetime import datetime

from session_tui.cli.commands import Argument, Command
from session_tui.cli.common import CliError, open_db, print_json, print_table, wants_json


def _list(args: argparse.Namespace) -> int:
    from session_tui import locations
    from session_tui.data.deletion import list_backups

    rows = [
        {
            "file": str(path),
            "written": datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0),
            "bytes": path.stat().st_size,
        }
        for path in list_backups()
    ]
    if wants_json(args):
        print_json(rows)
    elif not rows:
        print(f"no backups in {locations.backups_dir()}")
    else:
        print_table(rows, ["written", "bytes", "file"])
    return 0


def run(args: argparse.Namespace) -> int:
    from session_tui.data.deletion import BackupError, RestoreConflict, restore_backup

    if args.list:
        return _list(args)
    if not args.backup:
        raise CliError("name the backup file to restore (session-tui restore --list shows them)", 2)
    db = open_db(args)
    try:
        result = restore_backup(db, args.backup)
    except (BackupError, RestoreConflict) as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.dispose()
    if wants_json(args):
        print_json(
            {
                "backup": str(result.backup_path),
                "contacts": result.contacts,
                "memberships": result.memberships,
                "events": result.events,
                "renumbered": result.renumbered,
            }
        )
    else:
        note = (
            f" ({result.renumbered} membership/history ids were in use and got new ones)"
            if result.renumbered
            else ""
        )
        print(
            f"restored {_n(result.contacts, 'contact')}, {_n(result.memberships, 'membership')} "
            f"and {_n(result.events, 'history event')} from {result.backup_path}{note}"
        )
    return 0


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


COMMANDS = [
    Command(
        "restore",
        run,
        "put back the contacts (with their memberships and history) of a deletion backup file; "
        "backups are written to the data directory's backups/ before every delete",
        [
            Argument(
                "backup",
                nargs="?",
                metavar="BACKUP",
                help="the backup file (deleted-….jsonl.gz); see --list",
            ),
            Argument(
                "--list",
                action="store_true",
                help="list the backup files in the data directory, newest first",
            ),
        ],
    )
]
