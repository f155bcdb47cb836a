"""Partial backup files: the backup of a delete still running (or killed).

While a delete runs, its backup is written to `.deleting-<time>-<token>.partial`
in the backups folder and renamed to its final name just before the commit. The
writer holds an exclusive `flock` on the partial file from its creation until
after the rename. A process killed mid-delete (its transaction rolled back, so
nothing was deleted) leaves a partial behind; the kernel drops its lock.
`remove_stale_partials` (run at the start of every delete) removes a partial
only when it can take that lock itself -- no process is writing it -- and the
file is at least PARTIAL_MIN_AGE old (a guard for writers that hold no lock:
an older session-tui, a filesystem where locks are not shared). Finished
backups and every other file are never touched.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from datetime import datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS: no lock, leftovers are kept
    fcntl = None  # type: ignore[assignment]

PARTIAL_MIN_AGE = 600.0  # seconds; see the module docstring
_PARTIAL_NAME = re.compile(r"\.deleting-\d{8}-\d{6}-[0-9a-f]{8}\.partial\Z")
# The partials this process is writing now, as (st_dev, st_ino). flock locks are
# per open file, so a second open in this process cannot take them -- except where
# flock is emulated with per-process fcntl locks (Linux NFS); this set covers that.
_writing: set[tuple[int, int]] = set()


def _try_lock(fd: int) -> bool | None:
    """Take an exclusive lock on the open file without waiting: True (taken),
    False (another open file holds it), None (this system/filesystem cannot lock)."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _is_file_at(fd: int, path: Path) -> bool:
    """Is `path` (still) the file open as `fd`?"""
    try:
        here = os.lstat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino) and mine.st_nlink > 0


def create_partial(folder: Path, now: datetime) -> tuple[Path, int, tuple[int, int]]:
    """Create a new partial file (0600) and lock it; returns its path, fd and its
    key in `_writing` (where it is registered).

    A cleaner that took the lock between our create and our lock removes the
    file: then we start over with a new name. Where locking is not possible the
    file is used unlocked (the age rule keeps it from being removed)."""
    for _attempt in range(10):
        tmp = folder / f".deleting-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.partial"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        locked = _try_lock(fd)
        if locked is None or (locked and _is_file_at(fd, tmp)):
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino)
            _writing.add(key)
            return tmp, fd, key
        os.close(fd)  # a cleaner has it: it removes it (or already did)
    raise OSError(f"cannot create a backup file in {folder}")


def remove_stale_partials(folder: Path, *, min_age: float = PARTIAL_MIN_AGE) -> list[Path]:
    """Remove the partial backup files of deletes that never finished; returns them.

    A `.deleting-*.partial` file is removed only when no process holds its lock
    (its writer is dead: the kernel released the lock) and its last change is at
    least `min_age` seconds old. Nothing else in the folder is touched; every
    error just keeps the file.
    """
    removed: list[Path] = []
    try:
        names = [e.name for e in os.scandir(folder)]
    except OSError:
        return removed
    now = time.time()
    for name in sorted(names):
        if not _PARTIAL_NAME.match(name):
            continue
        path = folder / name
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < min_age:
                continue
            if (st.st_dev, st.st_ino) in _writing:
                continue
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            fd = os.open(path, flags)
        except OSError:
            continue
        try:
            # Our lock is held until we close fd, after the unlink: a writer that
            # created the file just now cannot lock it meanwhile, sees it gone and
            # picks a new name (create_partial).
            if _try_lock(fd) and _is_file_at(fd, path):
                os.unlink(path)
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def remove_stale_partials_quietly(folder: Path) -> None:
    """Housekeeping before a delete: never the reason a delete fails."""
    try:
        remove_stale_partials(folder)
    except Exception:  # noqa: BLE001 - a leftover is harmless; the delete matters
        pass


def done_writing(key: tuple[int, int]) -> None:
    """The partial `key` (from `create_partial`) is renamed or removed: this process
    no longer writes it."""
    _writing.discard(key)


def fsync_dir(path: Path) -> None:
    """Make a rename in the folder durable (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
