"""The actions menu of the Contacts screen (`A`): what to do to the selected contacts,
or to the current contact when nothing is selected.

`ActionsMenu(subject)` is a `Dialog[BulkChoice]`: its title names what it acts on
("3 selected contacts", "Ann Smith"); it dismisses with the chosen `BulkChoice`, or
None on `escape`. Keys: up/down and enter, or an action's letter (shown beside it:
g grant, e extend, p payment type, c cancel, x export, d delete -- the last two are
the Contacts screen's own keys for export and delete).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from session_tui.ui.modals.base import Dialog, cancel_binding
from session_tui.ui.user_text import literal


class BulkChoice(StrEnum):
    GRANT = "grant"
    EXTEND = "extend"
    PAYMENT = "payment"
    CANCEL = "cancel"
    EXPORT = "export"
    DELETE = "delete"


# (choice, key, label), in menu order
MENU: tuple[tuple[BulkChoice, str, str], ...] = (
    (BulkChoice.GRANT, "g", "Grant a membership…"),
    (BulkChoice.EXTEND, "e", "Extend…"),
    (BulkChoice.PAYMENT, "p", "Change payment type…"),
    (BulkChoice.CANCEL, "c", "Cancel a membership…"),
    (BulkChoice.EXPORT, "x", "Export selected…"),
    (BulkChoice.DELETE, "d", "Delete selected…"),
)


def _prompt(key: str, label: str) -> Text:
    text = Text(f" {key} ", style="bold")
    text.append(f" {label}")
    return text


class ActionsMenu(Dialog[BulkChoice]):
    """Choose what to do to the selected contacts (or the current one)."""

    CSS_PATH = "actions_menu.tcss"
    HELP_SECTION = "Actions menu"

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("actions.cancel", "Close"),
        *(
            Binding(
                key,
                f"choose('{choice.value}')",
                label.rstrip("…"),
                show=False,
                id=f"actions.{choice.value}",
            )
            for choice, key, label in MENU
        ),
    ]

    def __init__(self, subject: str) -> None:
        super().__init__()
        self.subject = subject

    def compose(self) -> ComposeResult:
        with Vertical(id="actions-dialog"):
            yield Label(literal(f"Actions: {self.subject}"), id="actions-title")
            yield OptionList(
                *(Option(_prompt(key, label), id=choice.value) for choice, key, label in MENU),
                id="actions-list",
            )
            yield Static(
                "↑↓ enter · or the letter · escape closes", id="actions-hint", markup=False
            )

    def on_mount(self) -> None:
        options = self.query_one("#actions-list", OptionList)
        options.highlighted = 0
        options.focus()

    def action_choose(self, choice: str) -> None:
        self.close(BulkChoice(choice))

    @on(OptionList.OptionSelected, "#actions-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.close(BulkChoice(str(event.option.id)))


__all__ = ["MENU", "ActionsMenu", "BulkChoice"]
