"""The files session-tui writes CSV into (exports, rejects files): guarded, private, atomic.

Which targets are refused (`check_target`), each with a one-line reason:

- the open database and its `-wal`, `-shm` and `-journal` files (SQLite), and
  every file in the deletion backups folder -- whether the target names them,
  links to them (symbolic or hard link) or does not exist yet but resolves to
  them;
- the import's own input (a rejects file must not replace the file it reports on);
- a symbolic link, unless `follow_symlinks` (`--follow-symlinks` on the command
  line): then the file it points to is written, as if it had been named;
- a socket, a block device or a directory.

How a target is written (`open_output`):

- a regular file, or a new one: under a temporary name made by `mkstemp` in the
  target's folder (`.NAME.XXXXXXXX.part`: unique, never an existing file), renamed
  over the target when complete -- a failed or cancelled write leaves the target
  as it was and no temporary file behind;
- a character device (`/dev/null`, a terminal) or a FIFO: written into directly,
  streamed, with no temporary file and no rename (a FIFO with no reader is
  refused at once when `wait_for_reader` is false, as in the app, which must
  never hang).

Permission bits of a regular target:

- a new file is 0600 (owner only), whatever the umask: it holds people's names
  and emails, like the database and the deletion backups;
- a replaced file keeps its permission bits (`rwx` for owner, group, others):
  a file the user shared with a group, or made read-only, keeps that. Owner,
  group, ACLs and extended attributes are not copied.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from session_tui import locations
from session_tui.data.validation import strip_controls

NEW_FILE_MODE = 0o600
SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")

PathLike = str | os.PathLike[str]


class TargetError(Exception):
    """A file cannot or must not be written. The message is for the user."""


def _shown(path: PathLike) -> str:
    return strip_controls(os.fspath(path))


def mode_for(final: PathLike) -> int:
    """The permission bits for a file about to replace `final` (see the module doc)."""
    try:
        st = os.stat(final)
    except OSError:
        return NEW_FILE_MODE
    if not stat.S_ISREG(st.st_mode):
        return NEW_FILE_MODE
    return stat.S_IMODE(st.st_mode) & 0o777


def database_file(url: str) -> Path | None:
    """The SQLite file of a database URL (None for PostgreSQL and `:memory:`)."""
    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL we can resolve: nothing to protect
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _same(a: PathLike, b: PathLike) -> bool:
    """Whether `a` and `b` are the same file, or (not existing yet) the same path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _in_backups(target: PathLike) -> bool:
    backups = locations.backups_dir()
    real_dir = os.path.realpath(backups)
    if os.path.dirname(os.path.realpath(target)) == real_dir:
        return True
    try:
        st = os.stat(target)
    except OSError:
        return False
    try:
        with os.scandir(backups) as entries:  # a hard link to a backup, elsewhere
            for entry in entries:
                try:
                    other = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                    return True
    except OSError:
        return False
    return False


def check_target(
    target: PathLike,
    *,
    db_url: str | None = None,
    inputs: Sequence[PathLike] = (),
    follow_symlinks: bool = False,
) -> None:
    """Raise TargetError with a one-line reason when `target` must not be written.

    `db_url`: the open database (its SQLite file and sidecars are protected);
    `inputs`: the files the operation reads (an import's input).
    """
    name = _shown(target)
    if os.path.islink(target) and not follow_symlinks:
        raise TargetError(
            f"{name} is a symbolic link: refusing to replace it (to write the file it "
            "points to, name that file, or pass --follow-symlinks on the command line)"
        )
    db_file = database_file(db_url) if db_url else None
    if db_file is not None:
        for suffix in SQLITE_SIDECARS:
            protected = Path(os.fspath(db_file) + suffix)
            if _same(target, protected):
                what = "the open database" + (f"'s {suffix} file" if suffix else "")
                raise TargetError(f"{name} is {what} ({_shown(protected)}): choose another file")
    if _in_backups(target):
        raise TargetError(
            f"{name} is in the deletion backups folder ({_shown(locations.backups_dir())}): "
            "choose another file"
        )
    for source in inputs:
        if _same(target, source):
            raise TargetError(f"{name} is the file being imported: choose another file")
    try:
        st = os.stat(target)
    except OSError:
        return
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise TargetError(f"{name} is a directory: type a file name")
    if stat.S_ISSOCK(mode):
        raise TargetError(f"{name} is a socket: cannot write a CSV file into it")
    if stat.S_ISBLK(mode):
        raise TargetError(f"{name} is a block device (a disk): refusing to write CSV onto it")


@dataclass(eq=False)
class OutputFile:
    """A CSV text stream to a target; `commit()` makes it final, `abort()` undoes it.

    For a regular file the stream is a temporary file renamed over the target by
    `commit()` and deleted by `abort()`; for a device or FIFO it is the target itself.
    """

    stream: IO[str]
    final: Path
    temp: Path | None
    done: bool = field(default=False, init=False)  # committed or aborted

    @property
    def streamed(self) -> bool:
        return self.temp is None

    def commit(self) -> None:
        self.stream.close()
        if self.temp is not None:
            os.replace(self.temp, self.final)
        self.done = True

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.stream.close()
        except OSError:
            pass
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)


def _open_stream(final: Path, encoding: str, errors: str, wait_for_reader: bool) -> IO[str]:
    """Open a character device or FIFO for writing, in place."""
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(final, flags | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno != errno.ENXIO:
            raise
        if not wait_for_reader:  # a FIFO nobody reads: refuse rather than hang
            raise TargetError(
                f"{_shown(final)} is a FIFO (named pipe) that no program is reading: "
                "start the reader first"
            ) from None
        fd = os.open(final, flags)  # waits for a reader, like any program writing a FIFO
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="")


def open_output(
    target: PathLike,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    db_url: str | None = None,
    inputs: Sequence[PathLike] = (),
    follow_symlinks: bool = False,
    wait_for_reader: bool = True,
) -> OutputFile:
    """Check `target` (`check_target`) and open it for CSV text (see the module doc).

    Raises TargetError (refused, or cannot be written) and nothing is created.
    """
    check_target(target, db_url=db_url, inputs=inputs, follow_symlinks=follow_symlinks)
    final = Path(os.path.realpath(target)) if follow_symlinks else Path(target)
    name = _shown(target)
    try:
        try:
            mode = os.stat(final).st_mode
        except FileNotFoundError:
            mode = 0
        if mode and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            return OutputFile(_open_stream(final, encoding, errors, wait_for_reader), final, None)
        wanted = mode_for(final)
        prefix = f".{final.name[:180]}."
        fd, temp = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=final.parent)
        try:
            os.fchmod(fd, wanted)  # exactly the mode wanted, before anything is written
            stream = os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="")
        except BaseException:
            os.close(fd)
            os.unlink(temp)
            raise
        return OutputFile(stream, final, Path(temp))
    except TargetError:
        raise
    except OSError as exc:
        raise TargetError(f"cannot write {name}: {exc.strerror or exc}") from None
