"""Search as you type, for every screen's search box.

The first keystroke of a burst searches at once; keystrokes that come less than
`window` seconds apart (a fast typist, a paste, tmux) form a burst that searches
once more when it ends. Stale queries are superseded by the tables' exclusive
workers, so a search never waits for an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

BURST_WINDOW = 0.05  # seconds


class SearchBurst:
    def __init__(
        self, owner: MessagePump, apply: Callable[[], None], window: float = BURST_WINDOW
    ) -> None:
        self._owner = owner
        self._apply = apply
        self._window = window
        self._timer: Timer | None = None

    def changed(self) -> None:
        """The search text changed (call from Input.Changed)."""
        if self._timer is None:
            self._apply()
        else:
            self._timer.stop()
        self._timer = self._owner.set_timer(self._window, self._burst_over)

    def flush(self) -> None:
        """Apply now and end the burst (enter, escape)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._apply()

    def _burst_over(self) -> None:
        self._timer = None
        self._apply()  # a no-op when this text was already searched
