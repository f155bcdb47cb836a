"""The filter panel's keys, with ids `filter.<name>` so they can be remapped."""

from __future__ import annotations

from textual.binding import BindingType

from session_tui.ui.key_table import HIDDEN, SHOWN, Key, key_table

# fmt: off
FILTER_KEYS: list[BindingType] = key_table(
    "filter",
    Key("ctrl+n", "add_condition", "New condition", "add_condition", SHOWN,
        "Add a condition (to the group holding the focus)"),
    Key("ctrl+g", "add_group", "New group", "add_group", SHOWN,
        "Add a group of conditions (one level deep)"),
    Key("delete,ctrl+delete", "remove", "Remove row", "remove", HIDDEN,
        "Remove the condition (or group) holding the focus (outside text boxes)"),
    Key("ctrl+o", "toggle_mode", "AND/OR", "toggle_mode", SHOWN,
        "Switch the group holding the focus between AND and OR"),
    Key("escape", "leave", "Table", "leave", SHOWN,
        "Back to the table (the filter stays applied)"),
)
# fmt: on
