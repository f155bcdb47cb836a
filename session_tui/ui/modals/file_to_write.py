"""The file a dialog is about to write (an export, an import's rejects), as typed in
its path box: checked before anything is written.

Refused with the reason: an empty name, a folder, and what `csvio.files.check_target`
refuses (the open database and its sidecar files, the backups, the input being read,
a link, a device or a FIFO nobody reads). A file that exists is replaced only when
its name is entered a second time in a row. A name without a folder is in the
folder the app was started in (`folder_hint` says which); if that folder no longer
exists, or a folder on the way cannot be read, the dialog says so (no traceback).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from session_tui.data.csvio.files import TargetError, check_target


def display_path(path: Path) -> str:
    """`path` with the home directory shown as `~`."""
    try:
        inside = path.relative_to(Path.home())
    except (ValueError, RuntimeError):
        return str(path)
    return "~" if inside == Path() else f"~/{inside}"


FOLDER_GONE = "the folder the app was started in no longer exists: type a full path, e.g. ~/{name}"


def absolute(path: Path) -> Path:
    """`path` (`~` expanded) from the current folder; TargetError when that folder is
    gone (os.getcwd() fails)."""
    path = path.expanduser()
    if path.is_absolute():
        return path
    try:
        return Path(os.getcwd()) / path
    except OSError:
        raise TargetError(FOLDER_GONE.format(name=path.name or "contacts.csv")) from None


def folder_hint(name: str) -> str:
    """Where the proposed file `name` goes, said before anything is written: the
    current folder is whatever the app was started from (`/`, a read-only folder…)."""
    try:
        target = absolute(Path(name))
    except TargetError as exc:
        return f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    return f"Saved in {display_path(target.parent)} unless you type another folder."


class FileToWrite:
    """The checks of one path box; `show(message)` says why a name is refused."""

    def __init__(self, show: Callable[[str], None], *, empty: str, refused: str) -> None:
        self._show = show
        self._empty = empty  # what to say for an empty box
        self._refused = refused  # how a refusal starts: "Not exported"
        self._agreed: str | None = None  # the existing file the user agreed to replace

    def submit(
        self,
        value: str,
        write: Callable[[Path, str], None],
        *,
        db_url: str,
        inputs: Sequence[str] = (),
    ) -> None:
        """`write(path, name as typed)` when the file named `value` may be written
        (`path` absolute)."""
        name = value.strip()
        if not name:
            self._show(self._empty)
            return
        try:
            target = absolute(Path(name))
            if target.is_dir():
                self._show(f"{name} is a directory: type a file name.")
                return
            check_target(target, db_url=db_url, inputs=inputs)
            exists = target.is_file()
        except TargetError as exc:
            self._show(f"{self._refused}: {exc}.")
            return
        except OSError as exc:  # e.g. a folder on the way that cannot be read
            self._show(f"{self._refused}: cannot use {name}: {exc.strerror or exc}.")
            return
        if exists and self._agreed != name:
            self._agreed = name
            self._show(f"{name} exists: press enter again to replace it.")
            return
        write(target, name)
