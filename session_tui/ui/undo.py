"""What `u` can undo while the app runs: one stack per app (`SessionApp.undo`).

A deletion or a bulk membership action (the actions menu) made on the Contacts
screen can be undone as long as the app runs, whatever screens were visited in
between; `u` takes back the newest entry of any kind. Once the app is closed the
stack is gone (deletion backup files stay, for `session-tui restore`).

Entries are small typed records (`Undoable`): `Deletion` and `BulkChange` here,
`MembershipBulkChange` of the Memberships screen (screens/membership_bulk.py). A
kind of change that can be undone adds its own record with a `describe()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from session_tui.ui.wording import plural

if TYPE_CHECKING:  # the data modules behind an undo load when a change is made
    from session_tui.data.bulk_common import UndoRecord
    from session_tui.data.deletion import DeleteResult


@runtime_checkable
class Undoable(Protocol):
    """One change `u` can take back."""

    def describe(self) -> str:
        """What undoing it does, for a toast ("Next, u restores 3 contacts."):
        "restores 3 contacts", "undoes the grant of “Course” to 12 contacts"."""
        ...


@dataclass(frozen=True)
class Deletion:
    """Contacts deleted on the Contacts screen; undone from their backup file."""

    result: DeleteResult
    was_selection: bool  # they were selected: undo selects them again

    def describe(self) -> str:
        return f"restores {plural(self.result.contacts)}"


# By BulkKind (a StrEnum: its values are the keys).
_BULK_NOUN = {
    "grant": ("the grant of", "to"),
    "extend": ("the extension of", "for"),
    "payment": ("the payment type change of", "for"),
    "cancel": ("the cancellation of", "for"),
}


@dataclass(frozen=True)
class BulkChange:
    """A bulk membership action from the actions menu; undone from its `UndoRecord`
    (`data.bulk_undo.undo_bulk`)."""

    record: UndoRecord
    product: str  # the product's name
    memberships: int  # memberships created or changed

    def describe(self) -> str:
        return f"undoes {self.what()}"

    def what(self) -> str:
        """The change, for "press u to undo …": "the grant of “Course” to 12 contacts"."""
        noun, prep = _BULK_NOUN[self.record.kind]
        return f"{noun} “{self.product}” {prep} {plural(self.memberships)}"


class UndoStack:
    """The app's undo history, newest last, plus whether a change or an undo runs.

    Only one undoable change (or undo) runs at a time: `busy` is set by the flow
    that runs it, for as long as it runs (its dialogs included).
    """

    def __init__(self) -> None:
        self._entries: list[Undoable] = []
        self.busy = False

    def push(self, entry: Undoable) -> None:
        self._entries.append(entry)

    def peek(self) -> Undoable | None:
        """The entry `u` undoes next (None: nothing to undo)."""
        return self._entries[-1] if self._entries else None

    def discard(self, entry: Undoable) -> None:
        """`entry` was undone: forget it (if it is still the newest)."""
        if self._entries and self._entries[-1] is entry:
            self._entries.pop()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Undoable]:
        """Oldest first."""
        return iter(tuple(self._entries))


__all__ = ["BulkChange", "Deletion", "UndoStack", "Undoable"]
