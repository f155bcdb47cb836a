"""Saving, renaming and deleting segments: the flows behind `s` and the filter
panel's Save, Rename and Delete buttons.

Each is a coroutine the Contacts screen runs in its own worker: ask (a dialog,
awaited), write in a thread (awaited), then show the segments as they now are in
the panel -- or say why nothing changed. Errors are shown, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.screen import Screen

from session_tui.data.db import Database, describe_error
from session_tui.data.filters import FilterError, Group, normalize, to_text
from session_tui.data.repositories.segments import (
    SegmentError,
    SegmentExists,
    SegmentRow,
    SegmentsRepository,
)
from session_tui.ui.context import session
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.segment_name import SegmentNameModal
from session_tui.ui.user_text import clean, escape_markup, literal
from session_tui.ui.widgets.filter_panel import FilterPanel

TITLE = "Segment"


@dataclass(frozen=True)
class _Written:
    row: SegmentRow | None  # the segment to show as chosen
    segments: list[SegmentRow]  # all of them, as they now are
    message: str


@dataclass(frozen=True)
class _Exists:
    name: str  # as stored


def _warn(screen: Screen[None], message: str) -> None:
    screen.app.notify(escape_markup(message), title=TITLE, severity="warning")


def _error(screen: Screen[None], message: str) -> None:
    screen.app.notify(escape_markup(message), title=TITLE, severity="error")


def _show(screen: Screen[None], panel: FilterPanel, written: _Written) -> None:
    panel.set_segments(written.segments)
    panel.select_segment(written.row.name if written.row is not None else None)
    screen.app.notify(escape_markup(written.message), title=TITLE)


# -- save -----------------------------------------------------------------------------


def _write(db: Database, name: str, tree: Group, overwrite: bool) -> _Written | _Exists:
    repo = SegmentsRepository(db)
    try:
        if not overwrite:
            existing = repo.get(name)
            if existing is not None:
                return _Exists(existing.name)
        row = repo.save(name, tree, overwrite=overwrite)
    except SegmentExists:
        return _Exists(name)
    verb = "Replaced" if overwrite else "Saved"
    return _Written(row, repo.all(), f"{verb} segment “{row.name}”.")


async def save_segment(screen: Screen[None], panel: FilterPanel) -> None:
    """Save the panel's filter as a segment: ask the name, and before replacing one."""
    tree = panel.filter_tree
    if panel.text_error:
        _warn(screen, f"Fix the filter text first ({panel.text_error}).")
        return
    if normalize(tree).is_empty:
        _warn(screen, "The filter is empty: add a condition first.")
        return
    app, db = screen.app, session(screen).db
    name = await app.push_screen_wait(
        SegmentNameModal(
            "Save the current filter as a segment",
            initial=panel.segment or panel.last_segment or "",
            summary=to_text(tree),
        )
    )
    if not name:
        return
    overwrite = False
    while True:
        try:
            outcome = await asyncio.to_thread(_write, db, name, tree, overwrite)
        except (SegmentError, FilterError) as exc:
            _error(screen, f"Nothing was saved: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            _error(screen, f"Nothing was saved: {describe_error(exc)}")
            return
        if isinstance(outcome, _Written):
            _show(screen, panel, outcome)
            return
        replace = ConfirmModal(
            f"Replace segment “{clean(outcome.name)}”?",
            [Text("A segment with this name exists. Its filter becomes:"), literal(to_text(tree))],
            yes="Replace",
            no="Keep it",
            default_yes=False,
        )
        if not await app.push_screen_wait(replace):
            return
        overwrite = True


# -- rename, delete -------------------------------------------------------------------


async def _change(
    screen: Screen[None],
    panel: FilterPanel,
    change: Callable[[SegmentsRepository], tuple[SegmentRow | None, str]],
    *,
    failed: str,
) -> None:
    """Run `change` (it returns the segment to choose and what to say) in a thread,
    then show the segments as they now are -- or why it failed."""
    db = session(screen).db

    def work() -> _Written:
        repo = SegmentsRepository(db)
        row, message = change(repo)
        return _Written(row, repo.all(), message)

    try:
        written = await asyncio.to_thread(work)
    except SegmentError as exc:
        _error(screen, f"{failed}: {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - shown, never a crash
        _error(screen, f"{failed}: {describe_error(exc)}")
        return
    _show(screen, panel, written)


async def rename_segment(screen: Screen[None], panel: FilterPanel) -> None:
    old = panel.segment
    if old is None:
        _warn(screen, "Choose a segment first.")
        return
    new = await screen.app.push_screen_wait(
        SegmentNameModal(f"Rename segment “{clean(old)}”", initial=old)
    )
    if not new:
        return

    def rename(repo: SegmentsRepository) -> tuple[SegmentRow | None, str]:
        row = repo.rename(old, new)
        return row, f"Renamed segment to “{row.name}”."

    await _change(screen, panel, rename, failed="Not renamed")


async def delete_segment(screen: Screen[None], panel: FilterPanel) -> None:
    name = panel.segment
    if name is None:
        _warn(screen, "Choose a segment first.")
        return
    row = panel.segments.get(name)
    body: list[str | Text] = ["The filter stays applied in the panel."]
    if row is not None and row.filter is not None:
        body.insert(0, literal(row.text))
    confirm = ConfirmModal(
        f"Delete segment “{clean(name)}”?", body, yes="Delete", danger=True, default_yes=False
    )
    if not await screen.app.push_screen_wait(confirm):
        return

    def delete(repo: SegmentsRepository) -> tuple[SegmentRow | None, str]:
        deleted = repo.delete(name)
        return None, f"Deleted segment “{deleted.name}”."

    await _change(screen, panel, delete, failed="Not deleted")
