"""Permissions: the database (0600, its -wal/-shm too), the data directory (0700) and
the deletion backups (0600 in a 0700 `backups/`) are created private -- even under a
permissive umask -- and an existing database file keeps the mode its owner gave it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_tui import locations
from session_tui.data.db import open_database
from session_tui.data.deletion import delete_contacts
from tests.helpers import add_contacts


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: whatever we create private is private by itself."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_default_database_and_data_dir_are_private(
    _private_data_dir: Path, open_umask: None
) -> None:
    db = open_database()  # the default: <data dir>/session-tui.db
    try:
        add_contacts(db, [("a@example.com", "A", "B")])
        path = locations.default_db_path()
        assert path.parent == _private_data_dir
        assert mode(_private_data_dir) == 0o700
        assert mode(path) == 0o600
        with db.engine.connect() as conn:  # a connection is open: -wal/-shm exist
            conn.exec_driver_sql("SELECT 1")
            siblings = [Path(f"{path}{s}") for s in ("-wal", "-shm")]
            for sibling in siblings:
                assert sibling.exists() and mode(sibling) == 0o600, sibling
    finally:
        db.dispose()


def test_database_at_a_chosen_path_is_created_private(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "new" / "team.db"
    db = open_database(str(target))
    db.dispose()
    assert mode(target) == 0o600


@pytest.mark.parametrize("existing", [0o400, 0o640, 0o660])
def test_an_existing_database_keeps_its_mode(tmp_path: Path, existing: int) -> None:
    """A file made read-only on purpose, or shared with a group, is not chmod-ed."""
    target = tmp_path / "shared.db"
    open_database(str(target)).dispose()
    os.chmod(target, existing)
    open_database(str(target), migrate=False).dispose()
    assert mode(target) == existing


def test_backups_are_private(_private_data_dir: Path, open_umask: None, tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "t.db"))
    try:
        ids = add_contacts(db, [("a@example.com", "A", "B"), ("b@example.com", "C", "D")])
        result = delete_contacts(db, ids)
    finally:
        db.dispose()
    backups = locations.backups_dir()
    assert result.backup_path.parent == backups
    assert mode(backups) == 0o700
    assert mode(result.backup_path) == 0o600
    assert mode(_private_data_dir) == 0o700
    assert not list(backups.glob(".deleting-*"))  # no partial file left behind
