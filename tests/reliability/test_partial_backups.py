"""Leftover `.deleting-*.partial` files (a delete killed before it finished) are
removed at the start of the next delete -- but only when their writer is dead:
the writer holds an exclusive flock on its partial until it is renamed, and the
kernel drops that lock when the process dies. A partial that a live process
(a child process, or this one) is writing is kept; finished backups and every
other file in the folder are never touched; a failing cleanup never fails a delete.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_tui import locations
from session_tui.data.db import Database, open_database
from session_tui.data.deletion import (
    PARTIAL_MIN_AGE,
    delete_contacts,
    inspect_backup,
    remove_stale_partials,
)
from session_tui.data.deletion import partials as deletion
from tests.helpers import add_contacts, expect_line, spawn

OLD = PARTIAL_MIN_AGE + 3600  # seconds: how far files are aged (os.utime), no sleeping

# argv: url, ids file. Deletes them and stops after the first chunk, inside the
# transaction, with its partial backup open: prints the partial's path and sleeps.
CHILD = r"""
import sys, time
from pathlib import Path
from session_tui import locations
from session_tui.data.db import open_database
from session_tui.data.deletion import delete_contacts

url, id_file = sys.argv[1:3]
db = open_database(url)

def progress(done, total):
    partials = sorted(locations.backups_dir().glob(".deleting-*.partial"))
    print("REACHED", *partials, flush=True)
    time.sleep(600)

print("STARTED", flush=True)
delete_contacts(db, [int(x) for x in Path(id_file).read_text().split()], progress=progress)
print("FINISHED", flush=True)
"""


def age(path: Path, seconds: float = OLD) -> None:
    """Make the file look `seconds` old (mtime and atime)."""
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def people(n: int, tag: str) -> list[tuple[str, str, str]]:
    return [(f"{tag}{i}@example.com", f"First{i}", f"Last{i}") for i in range(n)]


@pytest.fixture
def child_deleting(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, str]]:
    """A child process in the middle of a delete on its own SQLite file: returns
    (process, its partial backup, the database URL). Killed afterwards if alive."""
    url = f"sqlite:///{tmp_path / 'child.db'}"
    db = open_database(url)
    ids = add_contacts(db, people(3, "child"))
    db.dispose()
    id_file = tmp_path / "ids.txt"
    id_file.write_text(" ".join(map(str, ids)))
    child = spawn(CHILD, url, str(id_file))
    try:
        expect_line(child, "STARTED")
        line = expect_line(child, "REACHED ").split()
        assert len(line) == 2, line
        yield child, Path(line[1]), url
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL


@pytest.mark.slow
def test_a_dead_writers_partial_is_removed_by_the_next_delete(
    child_deleting: tuple[subprocess.Popen[str], Path, str],
) -> None:
    child, partial, url = child_deleting
    kill(child)  # mid-delete: the transaction rolls back, the partial stays behind
    assert partial.exists() and partial.parent == locations.backups_dir()

    db = open_database(url)
    try:
        ids = add_contacts(db, people(2, "later"))
        # Fresh leftovers wait PARTIAL_MIN_AGE (a guard for writers without a lock).
        first = delete_contacts(db, ids[:1])
        assert partial.exists()
        age(partial)
        second = delete_contacts(db, ids[1:])
    finally:
        db.dispose()
    assert not partial.exists()
    for done in (first, second):  # the deletes themselves are untouched
        assert inspect_backup(done.backup_path).contacts == 1
    assert list(locations.backups_dir().glob(".deleting-*")) == []


@pytest.mark.slow
def test_a_live_writers_partial_is_kept_until_it_dies(
    child_deleting: tuple[subprocess.Popen[str], Path, str], sqlite_url: str
) -> None:
    """Two processes, two databases, one backups folder (the usual data directory)."""
    child, partial, _url = child_deleting
    age(partial)  # old enough: only the child's lock protects it now
    size = partial.stat().st_size

    db = open_database(sqlite_url)
    try:
        ids = add_contacts(db, people(2, "here"))
        result = delete_contacts(db, ids)  # runs the cleanup first
    finally:
        db.dispose()
    assert result.contacts == 2
    assert partial.exists() and partial.stat().st_size == size
    assert remove_stale_partials(partial.parent) == []
    assert partial.exists()

    kill(child)  # the kernel releases its lock
    assert remove_stale_partials(partial.parent) == [partial]
    assert not partial.exists()
    assert inspect_backup(result.backup_path).contacts == 2


def test_this_process_keeps_its_own_partial_while_deleting(sqlite_db: Database) -> None:
    ids = add_contacts(sqlite_db, people(3, "own"))
    folder = locations.backups_dir()
    seen: list[tuple[list[Path], list[Path], bool]] = []

    def progress(_done: int, _total: int) -> None:
        partials = sorted(folder.glob(".deleting-*.partial"))
        for p in partials:
            age(p)
        removed = remove_stale_partials(folder)
        seen.append((partials, removed, all(p.exists() for p in partials)))

    result = delete_contacts(sqlite_db, ids, progress=progress)
    assert len(seen) == 1
    partials, removed, still_there = seen[0]
    assert len(partials) == 1 and removed == [] and still_there
    assert result.contacts == 3 and inspect_backup(result.backup_path).contacts == 3


def test_a_lock_held_by_another_open_file_of_this_process_keeps_the_partial() -> None:
    """flock is per open file: a lock this very process holds elsewhere counts."""
    folder = locations.backups_dir()
    partial = folder / ".deleting-20250101-120000-0123abcd.partial"
    partial.write_bytes(b"\x1f\x8b half a backup")
    age(partial)
    with open(partial, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert remove_stale_partials(folder) == []
        assert partial.exists()
    assert remove_stale_partials(folder) == [partial]  # closed: the lock is gone


def test_a_cleaner_between_create_and_lock_makes_the_writer_pick_a_new_name(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one moment a partial exists unlocked: just created, not yet locked. Play
    that interleaving: a cleaner (with no age limit) runs right then, takes the
    lock and removes the file; the writer notices and starts over."""
    ids = add_contacts(sqlite_db, people(2, "race"))
    folder = locations.backups_dir()
    real = deletion._try_lock
    raced: list[list[Path]] = []

    def cleaner_first(fd: int) -> bool | None:
        if not raced:
            raced.append([])
            raced[0] = remove_stale_partials(folder, min_age=0)
        return real(fd)

    monkeypatch.setattr(deletion, "_try_lock", cleaner_first)
    result = delete_contacts(sqlite_db, ids)
    assert len(raced[0]) == 1 and not raced[0][0].exists()
    assert result.contacts == 2 and inspect_backup(result.backup_path).contacts == 2
    assert list(folder.glob(".deleting-*")) == []


def test_finished_backups_and_other_files_are_never_touched(
    sqlite_db: Database, tmp_path: Path
) -> None:
    ids = add_contacts(sqlite_db, people(2, "keep"))
    folder = locations.backups_dir()
    backup = delete_contacts(sqlite_db, ids[:1]).backup_path
    outside = tmp_path / "precious.txt"
    outside.write_text("not yours")
    stale = folder / ".deleting-20250101-120000-deadbeef.partial"
    others = {
        "notes.txt": "mine",
        "deleted-20250101-120000-1-contact-abcdef.jsonl": "a decompressed backup",
        ".deleting-20250101-120000-DEADBEEF.partial": "not our name (upper case)",
        ".deleting-20250101-120000-deadbee.partial": "not our name (7 hex)",
        ".deleting-20250101-120000-deadbeef.partial.keep": "not our name (suffix)",
        "x.deleting-20250101-120000-deadbeef.partial": "not our name (prefix)",
        ".deleting-anything.partial": "not our name",
    }
    for name, text in others.items():
        (folder / name).write_text(text)
    stale.write_text("leftover")
    link = folder / ".deleting-20250101-120000-0badc0de.partial"
    link.symlink_to(outside)
    directory = folder / ".deleting-20250101-120000-00000000.partial"
    directory.mkdir()
    (directory / "inside").write_text("x")
    nested = folder / "sub"
    nested.mkdir()
    nested_partial = nested / ".deleting-20250101-120000-feedface.partial"
    nested_partial.write_text("elsewhere")
    for path in [backup, stale, link, directory, nested_partial, *(folder / n for n in others)]:
        age(path)
    backup_bytes = backup.read_bytes()

    assert remove_stale_partials(folder) == [stale]
    assert delete_contacts(sqlite_db, ids[1:]).contacts == 1  # and again, via a delete

    assert backup.read_bytes() == backup_bytes
    assert inspect_backup(backup).contacts == 1
    for name, text in others.items():
        assert (folder / name).read_text() == text, name
    assert link.is_symlink() and outside.read_text() == "not yours"
    assert (directory / "inside").read_text() == "x"
    assert nested_partial.read_text() == "elsewhere"


def test_a_failing_cleanup_never_fails_a_delete(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_a: object, **_k: object) -> list[Path]:
        raise OSError("the cleanup broke")

    monkeypatch.setattr(deletion, "remove_stale_partials", broken)
    ids = add_contacts(sqlite_db, people(2, "x"))
    result = delete_contacts(sqlite_db, ids)
    assert result.contacts == 2 and inspect_backup(result.backup_path).contacts == 2


def test_a_missing_or_unreadable_folder_is_no_error(tmp_path: Path) -> None:
    assert remove_stale_partials(tmp_path / "nowhere") == []
    afile = tmp_path / "a-file"
    afile.write_text("x")
    assert remove_stale_partials(afile) == []
