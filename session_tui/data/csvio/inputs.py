"""The file an import reads: only regular files, read with a pinned content.

- `open_regular(path)` opens a file for reading without ever blocking (a FIFO
  with no writer, a terminal), then refuses anything that is not a regular file
  with a reason. Every read of an import goes through it, so nothing in the app
  can hang on a pipe, and nothing is read twice from a stream that gives its
  bytes only once.
- `spooled(name)` is the command line's way to read a pipe: `-` (standard input),
  `/dev/stdin`, `<(…)` or a named pipe is read ONCE into a private (0600)
  temporary file, which the import then reads as often as it needs; the file is
  deleted afterwards.
- `scan(path)` is the one pass over the whole file before the import: its
  SHA-256, size and mtime (the `Fingerprint` the preview pins), and how much of
  it is not UTF-8 (the encoding decision, see `reader.detect_encoding`).
- `HashingReader` hashes what the rows are read from, so an import can tell,
  before it commits, whether it read the very bytes the preview read.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from session_tui.data.validation import strip_controls

_CHUNK = 1 << 20
_ASCII = bytes(range(128))
# A byte that is not UTF-8, as the "surrogateescape" error handler decodes it.
_ESCAPED = re.compile("[\udc80-\udcff]")
CHANGED = "the file changed since the preview: preview again"


class CsvFormatError(Exception):
    """The file cannot be read as a contacts CSV. The message is for the user."""


def display(path: str | os.PathLike[str]) -> str:
    return strip_controls(os.fspath(path))


def kind_of(mode: int) -> str:
    """`a FIFO (named pipe)`, `a directory`… for a file that is not a regular file."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def not_regular(path: str | os.PathLike[str], mode: int) -> CsvFormatError:
    name = display(path)
    if stat.S_ISDIR(mode):
        return CsvFormatError(f"{name} is a directory, not a CSV file")
    return CsvFormatError(
        f"{name} is {kind_of(mode)}, not a regular file: save the CSV to a file first "
        "(on the command line, `session-tui import -` reads standard input)"
    )


def open_regular(path: str | os.PathLike[str]) -> io.BufferedReader:
    """Open a regular file for reading; never blocks, refuses every other kind of file."""
    name = display(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO with no writer does not hang us
    except FileNotFoundError:
        raise CsvFormatError(f"no such file: {name}") from None
    except PermissionError:
        raise CsvFormatError(f"not allowed to read {name}") from None
    except IsADirectoryError:
        raise CsvFormatError(f"{name} is a directory, not a CSV file") from None
    except OSError as exc:
        raise CsvFormatError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return io.BufferedReader(io.FileIO(fd, "rb", closefd=True), _CHUNK)
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True)
class Fingerprint:
    """What the preview read: size, modification time and SHA-256 of the bytes."""

    size: int
    mtime_ns: int
    sha256: str

    def allows(self, st: os.stat_result) -> bool:
        """Whether a file of this status may still hold the bytes read: same size and
        modification time (only reading it again tells for sure)."""
        return (st.st_size, st.st_mtime_ns) == (self.size, self.mtime_ns)


@dataclass(frozen=True)
class Scan:
    fingerprint: Fingerprint
    non_ascii: int  # bytes >= 0x80
    bad: int  # of those, bytes that are not part of valid UTF-8
    first_bad: int  # offset of the first one (-1: none)


def scan(path: str | os.PathLike[str], encoding: str = "utf-8") -> Scan:
    """One pass over the whole file: fingerprint, and how much of it fails `encoding`
    (counted in bytes for UTF-8; for other codecs only whether it decodes)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(encoding)("surrogateescape")
    lenient = encoding.startswith("utf-8")
    strict = codecs.getincrementaldecoder(encoding)("strict")
    non_ascii = bad = 0
    first_bad = -1
    offset = 0
    with open_regular(path) as f:
        st = os.fstat(f.fileno())
        while True:
            chunk = f.read(_CHUNK)
            digest.update(chunk)
            final = not chunk
            if lenient:
                non_ascii += len(chunk.translate(None, _ASCII))
                text = decoder.decode(chunk, final=final)
                if not text.isascii():
                    n = len(_ESCAPED.findall(text))
                    if n and first_bad < 0:
                        i = _ESCAPED.search(text).start()  # type: ignore[union-attr]
                        first_bad = offset + len(text[:i].encode("utf-8", "surrogateescape"))
                    bad += n
            elif first_bad < 0:
                try:
                    strict.decode(chunk, final=final)
                except UnicodeDecodeError as exc:
                    first_bad = offset + exc.start
                    bad = 1
            if final:
                break
            offset += len(chunk)
    fingerprint = Fingerprint(st.st_size, st.st_mtime_ns, digest.hexdigest())
    return Scan(fingerprint, non_ascii, bad, first_bad)


def check_unchanged(path: str | os.PathLike[str], pinned: Fingerprint | None) -> None:
    """CsvFormatError(CHANGED) when the file's size or mtime is not what was pinned."""
    if pinned is None:
        return
    try:
        st = os.stat(path)
    except OSError:
        raise CsvFormatError(CHANGED) from None
    if not pinned.allows(st):
        raise CsvFormatError(CHANGED)


class HashingReader(io.RawIOBase):
    """A raw reader that hashes everything read through it (SHA-256)."""

    def __init__(self, inner: io.BufferedReader) -> None:
        super().__init__()
        self.inner = inner
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self.inner.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
        return n

    def fileno(self) -> int:
        return self.inner.fileno()

    def close(self) -> None:
        self.inner.close()
        super().close()


def _copy_stream(src: BinaryIO, dst: BinaryIO) -> None:
    shutil.copyfileobj(src, dst, _CHUNK)


@contextmanager
def spooled(name: str, stdin: BinaryIO | None = None) -> Iterator[tuple[str, bool]]:
    """(path to read, whether it is a spool): `-` and pipes are copied once into a
    private temporary file, deleted on exit; a regular file is read in place.

    Only the command line uses this: the app refuses everything but regular files.
    """
    if name == "-":
        source: BinaryIO | None = stdin if stdin is not None else sys.stdin.buffer
    else:
        try:
            mode = os.stat(name).st_mode
        except OSError:
            yield name, False  # open_regular gives the message
            return
        if stat.S_ISREG(mode) or not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            yield name, False  # a regular file, or one open_regular refuses
            return
        source = None
    fd, spool = tempfile.mkstemp(prefix="session-tui-import-", suffix=".csv")  # 0600
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                if source is not None:
                    _copy_stream(source, out)
                else:
                    with open(name, "rb") as src:  # blocks until a writer opens the FIFO
                        _copy_stream(src, out)
            except OSError as exc:
                raise CsvFormatError(
                    f"cannot read {display(name)}: {exc.strerror or exc}"
                ) from None
        yield spool, True
    finally:
        try:
            os.unlink(spool)
        except FileNotFoundError:
            pass
