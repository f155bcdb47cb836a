"""A text box for file paths that completes them as you type.

The completion (the greyed-out rest of a matching file or directory name) is
accepted with `tab` (or `right` at the end of the text); `tab` without a
completion moves the focus on, as usual. Directories complete with a trailing
`/`, so `tab` `tab` walks down a tree.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.suggester import Suggester
from textual.widgets import Input


def complete_path(value: str, extensions: Collection[str] = (), limit: int = 2000) -> str | None:
    """`value` completed to the first matching entry of its directory, or None.

    Matches directories and, when `extensions` is given, only files with one of
    those extensions (lower case, with the dot). Hidden entries only when the
    typed name starts with a dot.
    """
    if not value or "\x00" in value:
        return None
    expanded = os.path.expanduser(value)
    directory, prefix = os.path.split(expanded)
    base = Path(directory or ".")
    try:
        with os.scandir(base) as entries:
            candidates = []
            for i, entry in enumerate(entries):
                if i >= limit:
                    break
                name = entry.name
                if not name.startswith(prefix) or name == prefix:
                    continue
                if name.startswith(".") and not prefix.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if not is_dir and extensions and Path(name).suffix.lower() not in extensions:
                    continue
                candidates.append(name + ("/" if is_dir else ""))
    except OSError:
        return None
    if not candidates:
        return None
    best = sorted(candidates, key=lambda n: (n.endswith("/"), n.lower()))[0]
    return value + best[len(prefix) :]


class PathSuggester(Suggester):
    def __init__(self, extensions: Collection[str] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.extensions = frozenset(e.lower() for e in extensions)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value, self.extensions)


class PathInput(Input):
    """An Input with path completion (`tab` accepts it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete the path", show=False, id="path_input.complete"),
    ]

    def __init__(
        self,
        value: str = "",
        *,
        extensions: Collection[str] = (),
        placeholder: str = "",
        id: str | None = None,  # noqa: A002 - Textual's name
    ) -> None:
        super().__init__(value, placeholder=placeholder, suggester=PathSuggester(extensions), id=id)

    @property
    def completion(self) -> str:
        """The suggested completion of the current value ('' when there is none)."""
        suggestion = str(getattr(self, "_suggestion", "") or "")
        return suggestion if len(suggestion) > len(self.value) else ""

    def action_complete(self) -> None:
        completion = self.completion
        if completion:
            self.value = completion
            self.cursor_position = len(completion)
        else:
            self.screen.focus_next()
