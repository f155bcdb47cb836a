"""`python -m session_tui.bench.firstpaint app URL | bare`: one start, for the start-up figure.

Prints `painted` on stdout at the first paint of the screen and exits; the parent
(figures_floor.py) times the process from its spawn to that line, so the figure
includes the interpreter's start and every import, as a user waits for them.

- `app URL`: what `session-tui --db URL` does (`cli.app_arguments`, `cli.prepare_app`)
  -- the command line read, the settings read, the database opened (and its revision
  checked), the app made -- then the app run headless until the Contacts table shows
  its first page of rows (the count may still be on its way).
- `bare`: the floor: a bare Textual app (one Static) run the same way until its
  first paint. Nothing of session-tui is imported.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

SIZE = (120, 40)


async def _run_until_painted(app: Any, ready: Callable[[], bool]) -> None:
    painted = asyncio.Event()
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if not app._batch_count and not painted.is_set() and ready():
            painted.set()

    app._display = display
    async with app.run_test(size=SIZE):
        await asyncio.wait_for(painted.wait(), 120)
        print("painted", flush=True)


def _bare() -> tuple[Any, Callable[[], bool]]:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("session-tui")

    return Bare(), lambda: True


def _app(url: str) -> tuple[Any, Callable[[], bool]]:
    from session_tui.cli import app_arguments, prepare_app

    args = app_arguments(["--db", url])
    assert args is not None  # a plain start: the app's own short path
    app, _db = prepare_app(args)
    from session_tui.bench.ui import contacts_table, window_ready

    def ready() -> bool:
        table = contacts_table(app)
        return window_ready(table) and bool(table.count)

    return app, ready


def main(argv: list[str]) -> int:
    if argv[:1] == ["bare"] and len(argv) == 1:
        app, ready = _bare()
    elif argv[:1] == ["app"] and len(argv) == 2:
        app, ready = _app(argv[1])
    else:
        print("usage: python -m session_tui.bench.firstpaint app URL | bare", file=sys.stderr)
        return 2
    asyncio.run(_run_until_painted(app, ready))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
