"""The files session-tui writes CSV into (exports, rejects files): private and atomic.

A file is written under a temporary name (`FILE.part`) and renamed over FILE when
complete. Its permission bits:

- a new FILE is 0600 (owner only), whatever the umask: it holds people's names
  and emails, like the database and the deletion backups;
- when FILE already exists (a regular file), the new one gets that file's
  permission bits (`rwx` for owner, group, others): a file the user shared with
  a group, or made read-only, keeps that. Owner, group, ACLs and extended
  attributes are not copied (the new file is ours, in our default group).

The temporary file is created afresh with O_EXCL (a `.part` left by a killed run
is removed first, so its old mode or an open reader never carry over) and gets
its final mode before any row is written.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

NEW_FILE_MODE = 0o600


def mode_for(final: str | os.PathLike[str]) -> int:
    """The permission bits for a file about to replace `final` (see the module doc)."""
    try:
        st = os.stat(final)
    except OSError:
        return NEW_FILE_MODE
    if not stat.S_ISREG(st.st_mode):
        return NEW_FILE_MODE
    return stat.S_IMODE(st.st_mode) & 0o777


def part_path(final: str | os.PathLike[str]) -> Path:
    """The temporary name `final` is written under: `FILE.part` beside it."""
    path = Path(final)
    return path.with_name(path.name + ".part")


def open_part(part: Path, mode: int, encoding: str) -> IO[str]:
    """Create `part` new with exactly `mode` (umask or not) and open it for CSV text."""
    try:
        os.unlink(part)  # a leftover of a killed run: never reuse it
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(part, flags, NEW_FILE_MODE)  # the umask can only narrow this
    try:
        os.fchmod(fd, mode)  # exactly the mode wanted, before anything is written
        return os.fdopen(fd, "w", encoding=encoding, newline="")
    except BaseException:
        os.close(fd)
        part.unlink(missing_ok=True)
        raise
