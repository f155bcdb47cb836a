"""The file a dialog is about to write (an export, an import's rejects), as typed in
its path box: checked before anything is written.

Refused with the reason: an empty name, a folder, and what `csvio.files.check_target`
refuses (the open database and its sidecar files, the backups, the input being read,
a link, a device or a FIFO nobody reads). A file that exists is replaced only when
its name is entered a second time in a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from session_tui.data.csvio.files import TargetError, check_target


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
        """`write(path, name as typed)` when the file named `value` may be written."""
        name = value.strip()
        if not name:
            self._show(self._empty)
            return
        target = Path(name).expanduser()
        if target.is_dir():
            self._show(f"{name} is a directory: type a file name.")
            return
        try:
            check_target(target, db_url=db_url, inputs=inputs)
        except TargetError as exc:
            self._show(f"{self._refused}: {exc}.")
            return
        if target.is_file() and self._agreed != name:
            self._agreed = name
            self._show(f"{name} exists: press enter again to replace it.")
            return
        write(target, name)
