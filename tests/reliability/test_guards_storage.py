"""Issue 13, items 13 and 14: a full disk at a delete's commit names the first error;
folders the app creates are private; database paths that are not files are refused.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_tui import locations
from session_tui.cli import main
from session_tui.data.db import DatabaseError, describe_error, open_database
from session_tui.data.deletion import delete_contacts
from tests.helpers import add_contacts
from tests.reliability.helpers import integrity_ok, table_state
from tests.reliability.test_faults_storage import fill_up, tiny_filesystem


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# -- item 13: disk full at the commit ---------------------------------------------------
def test_disk_full_at_a_deletes_commit_says_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = Path(tempfile.mkdtemp(prefix="guards-", dir="/tmp"))
    try:
        with tiny_filesystem(base) as mount:
            if mount is None:
                pytest.skip("cannot mount a tmpfs here (needs root)")
            path = mount / "full.db"
            db = open_database(str(path))
            people = [(f"p{i}@example.org", "A" * 50, "B" * 50) for i in range(400)]
            ids = add_contacts(db, people)
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            before = table_state(db)
            db.dispose()
            db = open_database(str(path))
            filler = fill_up(mount)  # the backup goes to tmp_path: only the commit fails
            with pytest.raises(Exception) as caught:
                delete_contacts(db, ids, backups_dir=tmp_path / "backups")
            message = describe_error(caught.value)
            assert message == "the disk is full: nothing was written", repr(caught.value)
            filler.unlink()
            # The connection went back usable (or was dropped): the next call works.
            assert table_state(db) == before and integrity_ok(db)
            db.dispose()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- item 14: private folders, files that are not files ----------------------------------
def test_data_dir_and_its_parents_are_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_000: None
) -> None:
    monkeypatch.delenv("SESSION_TUI_DATA_DIR")
    xdg = tmp_path / "home" / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    db = open_database(None)
    db.dispose()
    for folder in (tmp_path / "home", tmp_path / "home" / ".local", xdg, xdg / "session-tui"):
        assert mode(folder) == 0o700, folder
    assert mode(xdg / "session-tui" / "session-tui.db") == 0o600
    assert mode(locations.backups_dir()) == 0o700


def test_db_in_new_folders_creates_them_private(
    tmp_path: Path, umask_000: None, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    target = existing / "newdir" / "sub" / "x.db"
    assert main(["products", "list", "--db", str(target)]) == 0
    assert mode(existing / "newdir") == 0o700
    assert mode(existing / "newdir" / "sub") == 0o700
    assert mode(target) == 0o600
    assert mode(existing) == 0o755  # a folder that existed keeps its mode


def test_dev_null_is_refused_and_leaves_no_journal(capsys: pytest.CaptureFixture[str]) -> None:
    journal = Path("/dev/null-journal")
    had_journal = journal.exists()
    code = main(["products", "add", "Course", "--db", "/dev/null"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        "session-tui: error: /dev/null is a device, not a database file: give a SQLite file path\n"
    )
    if not had_journal:
        assert not journal.exists()


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_other_non_regular_paths_are_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "db"
    if kind == "fifo":
        os.mkfifo(path)
        expected = "is a FIFO (named pipe), not a database file"
    else:
        path.mkdir()
        expected = "is a directory, not a database file"
    with pytest.raises(DatabaseError, match=re.escape(expected)):
        open_database(str(path))
    assert not list(tmp_path.glob("db-*"))  # no -journal, -wal or -shm beside it


@pytest.mark.parametrize(
    "url", [":memory:", "sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true"]
)
def test_in_memory_databases_are_refused_with_the_reason(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseError, match="in-memory SQLite database is not supported"):
        open_database(url)
    assert not (tmp_path / ":memory:").exists()


def test_a_sqlite_uri_filename_creates_no_stray_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "uri.db"
    db = open_database(f"sqlite:///file:{path}?uri=true")
    db.dispose()
    assert path.is_file() and not (tmp_path / "file:").exists()
