"""The base of the top screens, the app's modes (Contacts, Memberships, Products).

A top screen is made by `ui.app._ready_to_show`: the classes of its first showing
(the height breakpoint) are set before it mounts and the stylesheet is current, so
each widget is styled once, with its final classes, as it mounts. When the screen is
then first shown, Textual restyles every widget of it again (`ScreenResume` with
`refresh_styles`), which changes no style but costs ~2.5 % of a start's instructions
to the first paint (26 widgets restyled, then all drawn again; docs/performance.md,
"First paint, fifth round"). That one restyle is skipped; the later ones (back from
a dialog or another screen) are not (textual==8.2.8).
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class TopScreen(Screen[None]):
    """A screen the app shows as a mode (see the module doc)."""

    _styled_for_first_showing = False  # set by ui.app._ready_to_show

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual calls one handler per class of the MRO, this one before Screen's own
        # (`Screen._on_screen_resume`, which restyles when `refresh_styles` is set):
        # no super() call, or Screen's would run twice.
        if self._styled_for_first_showing:
            self._styled_for_first_showing = False
            event.refresh_styles = False


__all__ = ["TopScreen"]
