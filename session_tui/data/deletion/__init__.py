"""Deleting contacts with a backup first, and restoring them from that backup.

- `delete.py`: `delete_contacts(db, ids)` deletes an explicit, frozen list of
  contacts with their memberships and history, after writing every affected row
  to a backup file, complete on disk before the transaction commits;
- `restore.py`: `restore_backup(db, path)` puts those rows back exactly (same
  ids) in one transaction, or refuses without writing anything;
- `backup_format.py`: the backup file (gzip-compressed JSON Lines), written and
  read one contact at a time, validated on reading;
- `partials.py`: the backup of a delete still running, and the removal of those
  left behind by a delete that was killed.

The bulk SQL they share with import and the demo data (the connection settings,
the search index, long id lists) is in `data/sqlite_bulk.py`.
"""

from session_tui.data.deletion.backup_format import (
    FORMAT,
    FORMAT_VERSION,
    BackupError,
    BackupInfo,
    inspect_backup,
    list_backups,
)
from session_tui.data.deletion.delete import (
    DeleteResult,
    DeletionCancelled,
    PreviewRow,
    delete_contacts,
    preview,
)
from session_tui.data.deletion.partials import PARTIAL_MIN_AGE, remove_stale_partials
from session_tui.data.deletion.restore import (
    RestoreCancelled,
    RestoreConflict,
    RestoreResult,
    restore_backup,
)
from session_tui.data.sqlite_bulk import CHUNK, Cancelled

__all__ = [
    "CHUNK",
    "FORMAT",
    "FORMAT_VERSION",
    "PARTIAL_MIN_AGE",
    "BackupError",
    "BackupInfo",
    "Cancelled",
    "DeleteResult",
    "DeletionCancelled",
    "PreviewRow",
    "RestoreCancelled",
    "RestoreConflict",
    "RestoreResult",
    "delete_contacts",
    "inspect_backup",
    "list_backups",
    "preview",
    "remove_stale_partials",
    "restore_backup",
]
