"""The footer of the key bindings, rebuilt only when what it shows changes.

Textual's `Footer` recomposes (builds all its keys again, ~20 ms for the Contacts
screen's) after every signal that the screen's bindings may have changed: a start
sends three (the table focused, the screen on the stack, the focus settled), all
before the first rows are painted, and each gives the same keys. This footer
recomposes when the keys it would show (binding, enabled, tooltip, key display, in
order) differ from those it shows, and at most once per burst of signals (a
recompose reads the bindings when it runs). The check runs next in the footer's
queue, not after the next refresh as Textual's does: at start the keys are then
mounted before the first frame is laid out and drawn, not drawn in a second frame
(one layout and render less before the first rows: ~35 of the ~180 ms of CPU
from the made app to the paint, loaded; docs/performance.md "First paint ...
fourth round"). What it shows is otherwise
Textual's own (textual==8.2.8: `bindings_changed` is its method, but for the check
and its timing).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


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
            self.call_next(self._recompose_if_changed)

    def compose(self) -> ComposeResult:
        """Textual's keys, made with the `-compact` class a compact footer gives them:
        set by each key's watcher once mounted, it restyled the keys one by one."""
        for widget in super().compose():
            if self.compact and isinstance(widget, FooterKey):
                widget.add_class("-compact", update=False)
            yield widget

    def _keys(self) -> tuple[Any, ...]:
        """What `compose` builds the footer from: the shown bindings and the command
        palette's (its key is shown even when its binding is not), each with its state
        and key display; the hidden ones (most of a screen's) are not looked at."""
        app = self.app
        get_key_display = app.get_key_display
        palette = app.COMMAND_PALETTE_BINDING
        return tuple(
            (key, binding, enabled, tooltip, get_key_display(binding))
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette
        ) + (self.show_command_palette, app.ENABLE_COMMAND_PALETTE)

    async def _recompose_if_changed(self) -> None:
        self._recompose_due = False  # a change from now on is seen by a later check
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await self.recompose()
