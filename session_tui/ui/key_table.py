"""Key bindings written as a table: one row a binding, the ids' scope named once.

    BINDINGS = key_table(
        "contacts",
        Key("e", "edit_contact", "Edit", "edit", SHOWN, "Edit the current contact"),
    )

gives `Binding("e", "edit_contact", "Edit", show=True, tooltip="Edit the current
contact", id="contacts.edit")`. The id (scope, then the row's name) is what a user's
`[keymap]` remaps; `SHOWN` keys are in the footer, `HIDDEN` ones only in `?` help
and the command palette (both show the tooltip).
"""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding, BindingType

SHOWN = True
HIDDEN = False


class Key(NamedTuple):
    """A row of a key table: Binding's arguments, with the id's last part as `name`."""

    keys: str
    action: str
    description: str
    name: str
    show: bool = SHOWN
    tooltip: str = ""
    key_display: str | None = None
    # handled the moment the key arrives, before the focused widget sees it
    priority: bool = False

    def binding(self, scope: str) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.description,
            show=self.show,
            key_display=self.key_display,
            priority=self.priority,
            tooltip=self.tooltip,
            id=f"{scope}.{self.name}",
        )


def key_table(scope: str, *rows: Key) -> list[BindingType]:
    """The bindings of `rows`, their ids `{scope}.{name}`."""
    return [row.binding(scope) for row in rows]


__all__ = ["HIDDEN", "SHOWN", "Key", "key_table"]
