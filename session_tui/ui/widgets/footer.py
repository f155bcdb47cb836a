"""The footer of the key bindings, rebuilt only when what it shows changes.

Textual's `Footer` recomposes (builds all its keys again, ~20 ms for the Contacts
screen's) after every signal that the screen's bindings may have changed: a start
sends three (the table focused, the screen on the stack, the focus settled), all
before the first rows are painted, and each gives the same keys. This footer
recomposes when the keys it would show (binding, enabled, tooltip, key display, in
order) differ from those it shows, and at most once per burst of signals (a
recompose reads the bindings when it runs). What it shows, and when, is otherwise
Textual's own (textual==8.2.8: `bindings_changed` is its method, but for the check).
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """`textual.widgets.Footer`, without the recomposes that change nothing."""

    _recompose_due = False
    _shown: tuple[Any, ...] | None = None  # the keys of the last recompose

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_due:
            self._recompose_due = True
            self.call_after_refresh(self._recompose_if_changed)

    def _keys(self) -> tuple[Any, ...]:
        """What `compose` builds the footer from."""
        get_key_display = self.app.get_key_display
        return tuple(
            (binding, enabled, tooltip, get_key_display(binding))
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
        ) + (self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE)

    async def _recompose_if_changed(self) -> None:
        self._recompose_due = False  # a change from now on is seen by a later check
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await self.recompose()
