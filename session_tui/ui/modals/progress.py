"""A progress dialog for long database work running in a thread worker.

    modal = ProgressModal("Deleting 100,000 contacts", cancellable=True)
    app.push_screen(modal)
    # in the worker thread (non-blocking, thread-safe):
    modal.report(done, total)
    if modal.cancel_requested.is_set(): ...  # thread-safe
    # when done (UI thread): modal.close(None)

`escape` or the Cancel button (when `cancellable`) only *requests* cancellation;
the worker decides when it is safe to stop (e.g. before its commit). The UI stays
responsive: the work never runs on the UI thread.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, ProgressBar, Static

from session_tui.ui.modals.base import Dialog, cancel_binding
from session_tui.ui.user_text import literal


class ProgressModal(Dialog[None]):
    CSS_PATH = "progress.tcss"
    HELP_SECTION = "Progress"

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("progress.cancel", action="request_cancel"),
    ]

    def __init__(self, title: str, *, cancellable: bool = True, unit: str = "contacts") -> None:
        super().__init__()
        self._title = title
        self._cancellable = cancellable
        self._unit = unit
        self.cancel_requested = threading.Event()
        self._last_report = 0.0

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-dialog"):
            yield Label(literal(self._title), id="progress-title")
            yield ProgressBar(id="progress-bar", show_eta=False)
            yield Static("Starting…", id="progress-status", markup=False)
            if self._cancellable:
                with Horizontal(id="progress-buttons"):
                    yield Button("Cancel (escape)", id="progress-cancel")

    REPORT_EVERY = 0.1  # seconds between progress updates from the worker

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    def report(self, done: int, total: int) -> None:
        """From any thread: show progress. Never blocks the worker (a message, not
        call_from_thread) and posts at most every REPORT_EVERY seconds, plus the end."""
        now = time.monotonic()
        if done < total and now - self._last_report < self.REPORT_EVERY:
            return
        self._last_report = now
        self.post_message(self.Progress(done, total))

    def on_progress_modal_progress(self, message: Progress) -> None:
        self.set_progress(message.done, message.total)

    def set_progress(self, done: int, total: int) -> None:
        self.query_one("#progress-bar", ProgressBar).update(total=max(total, 1), progress=done)
        if not self.cancel_requested.is_set():
            self.query_one("#progress-status", Static).update(f"{done:,} of {total:,} {self._unit}")

    def set_status(self, text: str) -> None:
        self.query_one("#progress-status", Static).update(text)

    def action_request_cancel(self) -> None:
        if not self._cancellable or self.cancel_requested.is_set():
            return
        self.cancel_requested.set()
        self.set_status("Cancelling… nothing will be changed")
        for button in self.query("#progress-cancel").results(Button):
            button.disabled = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "request_cancel":
            return self._cancellable
        return True

    @on(Button.Pressed, "#progress-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_request_cancel()
