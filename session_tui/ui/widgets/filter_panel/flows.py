"""Glue between the Contacts screen, the filter panel and the segments repository.

- `toggle_panel(screen)` (`f`): mount the panel above the table the first time,
  then show/hide it. The filter stays applied while the panel is hidden.
- `save_segment(screen)` (`s`): save the current filter as a segment (a modal asks
  the name; an existing name asks before replacing it).
- `rename_segment(panel)`, `delete_segment(panel)`: the panel's buttons.

Database work runs in worker threads; errors are shown, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.screen import Screen

from session_tui.data.db import describe_error
from session_tui.data.filters import FilterError, Group, normalize, to_text
from session_tui.data.repositories.segments import (
    SegmentError,
    SegmentExists,
    SegmentRow,
    SegmentsRepository,
)
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.segment_name import SegmentNameModal
from session_tui.ui.user_text import clean, escape_markup, literal
from session_tui.ui.widgets.filter_panel.panel import FilterPanel


def panel_of(screen: Screen[Any]) -> FilterPanel | None:
    found = list(screen.query(FilterPanel).results(FilterPanel))
    return found[0] if found else None


async def toggle_panel(screen: Any) -> None:
    """Show the filter builder above the contacts table (focus in its text box), or
    hide it (focus back to the table)."""
    panel = panel_of(screen)
    if panel is None:
        panel = FilterPanel(
            screen.db,
            apply=screen.set_filter,
            leave=lambda: screen.set_focus(screen.table),
        )
        await screen.query_one("#contacts-main").mount(panel, before="#contacts-table")
        screen.set_focus(panel.text_input)
        return
    if panel.display:
        panel.display = False
        screen.set_focus(screen.table)
    else:
        panel.display = True
        panel.refresh_lists()
        screen.set_focus(panel.text_input)
    screen.update_count_line()


def save_segment(screen: Any) -> None:
    panel = panel_of(screen)
    if panel is None:
        screen.notify(
            "There is no filter to save: press f to build one.", title="Segment", severity="warning"
        )
        return
    save_segment_from_panel(panel)


def save_segment_from_panel(panel: FilterPanel) -> None:
    tree = panel.filter_tree
    if panel.text_error:
        panel.notify(
            escape_markup(f"Fix the filter text first ({panel.text_error})."),
            title="Segment",
            severity="warning",
        )
        return
    if normalize(tree).is_empty:
        panel.notify(
            "The filter is empty: add a condition first.", title="Segment", severity="warning"
        )
        return
    modal = SegmentNameModal(
        "Save the current filter as a segment",
        initial=panel.segment or panel.last_segment or "",
        summary=to_text(tree),
    )

    def named(name: str | None) -> None:
        if name:
            _save(panel, name, tree, overwrite=False)

    panel.app.push_screen(modal, callback=named)


def _in_thread(panel: FilterPanel, fn: Callable[[], None]) -> None:
    panel.run_worker(fn, thread=True, exclusive=True, group="filter-segments")


def _error(panel: FilterPanel, message: str) -> None:
    panel.notify(escape_markup(message), title="Segment", severity="error")


def _save(panel: FilterPanel, name: str, tree: Group, *, overwrite: bool) -> None:
    app = panel.app
    db = panel.db

    def work() -> None:
        repo = SegmentsRepository(db)
        try:
            if not overwrite:
                existing = repo.get(name)
                if existing is not None:
                    app.call_from_thread(_ask_overwrite, panel, existing.name, name, tree)
                    return
            row = repo.save(name, tree, overwrite=overwrite)
            segments = repo.all()
        except SegmentExists:
            app.call_from_thread(_ask_overwrite, panel, name, name, tree)
            return
        except (SegmentError, FilterError) as exc:
            app.call_from_thread(_error, panel, f"Nothing was saved: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            app.call_from_thread(_error, panel, f"Nothing was saved: {describe_error(exc)}")
            return
        app.call_from_thread(
            _done,
            panel,
            row,
            segments,
            f"{'Replaced' if overwrite else 'Saved'} segment “{row.name}”.",
        )

    _in_thread(panel, work)


def _ask_overwrite(panel: FilterPanel, existing: str, name: str, tree: Group) -> None:
    modal = ConfirmModal(
        f"Replace segment “{clean(existing)}”?",
        [Text("A segment with this name exists. Its filter becomes:"), literal(to_text(tree))],
        yes="Replace",
        no="Keep it",
        default_yes=False,
    )

    def answered(yes: bool | None) -> None:
        if yes:
            _save(panel, name, tree, overwrite=True)

    panel.app.push_screen(modal, callback=answered)


def _change(
    panel: FilterPanel,
    change: Callable[[SegmentsRepository], tuple[SegmentRow | None, str]],
    *,
    failed: str,
) -> None:
    """Run `change` (rename, delete: it returns the segment to select and what to say)
    in a worker thread, then show the segments as they now are -- or why it failed."""
    app, db = panel.app, panel.db

    def work() -> None:
        repo = SegmentsRepository(db)
        try:
            row, message = change(repo)
            segments = repo.all()
        except SegmentError as exc:
            app.call_from_thread(_error, panel, f"{failed}: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            app.call_from_thread(_error, panel, f"{failed}: {describe_error(exc)}")
            return
        app.call_from_thread(_done, panel, row, segments, message)

    _in_thread(panel, work)


def _done(
    panel: FilterPanel, row: SegmentRow | None, segments: list[SegmentRow], message: str
) -> None:
    panel.set_segments(segments)
    panel.select_segment(row.name if row is not None else None)
    panel.notify(escape_markup(message), title="Segment")


def rename_segment(panel: FilterPanel) -> None:
    old = panel.segment
    if old is None:
        panel.notify("Choose a segment first.", title="Segment", severity="warning")
        return
    modal = SegmentNameModal(f"Rename segment “{clean(old)}”", initial=old)

    def named(new: str | None) -> None:
        if not new:
            return

        def rename(repo: SegmentsRepository) -> tuple[SegmentRow | None, str]:
            row = repo.rename(old, new)
            return row, f"Renamed segment to “{row.name}”."

        _change(panel, rename, failed="Not renamed")

    panel.app.push_screen(modal, callback=named)


def delete_segment(panel: FilterPanel) -> None:
    name = panel.segment
    if name is None:
        panel.notify("Choose a segment first.", title="Segment", severity="warning")
        return
    row = panel.segments.get(name)
    body: list[str | Text] = ["The filter stays applied in the panel."]
    if row is not None and row.filter is not None:
        body.insert(0, literal(row.text))
    modal = ConfirmModal(
        f"Delete segment “{clean(name)}”?", body, yes="Delete", danger=True, default_yes=False
    )

    def answered(yes: bool | None) -> None:
        if not yes:
            return

        def delete(repo: SegmentsRepository) -> tuple[SegmentRow | None, str]:
            deleted = repo.delete(name)
            return None, f"Deleted segment “{deleted.name}”."

        _change(panel, delete, failed="Not deleted")

    panel.app.push_screen(modal, callback=answered)
