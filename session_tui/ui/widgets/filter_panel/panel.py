"""FilterPanel: the filter builder shown above the contacts table (`f`).

Rows of conditions (field / operator / value, see rows.py), combined with AND or
OR, with groups one level deep; the same filter as text, typed or shown, both in
sync; saved segments in a dropdown. The panel owns a filter tree
(`panel.filter_tree`) and, after a short debounce, posts it as
`FilterPanel.Applied`; the screen shows it in the table (which supersedes stale
queries itself).

- Widgets -> tree: every edit recomputes the tree from the rows' own state
  (`ConditionRow.field/op/value`); incomplete rows (no value yet) and invalid ones
  (a bad date…) are left out and flagged. The text box then shows the tree's text.
- Text -> tree: what the user types is parsed (debounced); a syntax error is shown
  with its column and the last valid filter stays applied; a valid text rebuilds
  the rows.
- Segments: choosing one restores its exact tree. Saving, renaming, deleting
  one is the screen's work: the buttons post `SaveRequested`, `RenameRequested`,
  `DeleteRequested`; the screen shows the result with `set_segments()` and
  `select_segment()`. `Left`: escape, back to the table (messages.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar, TypeAlias

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.reactive import var
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from session_tui.data.db import describe_error
from session_tui.data.filters import FilterSyntaxError, Group, Mode, normalize, parse, to_text
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.repositories.segments import SegmentRow, SegmentsRepository
from session_tui.ui.context import session
from session_tui.ui.filter_help import FILTER_SYNTAX
from session_tui.ui.user_text import clean, escape_markup, literal
from session_tui.ui.widgets.filter_panel import messages
from session_tui.ui.widgets.filter_panel.keys import FILTER_KEYS
from session_tui.ui.widgets.filter_panel.rows import (
    ROOT_MODES,
    ConditionRow,
    GroupBox,
    choice,
    enclosing_group,
    enclosing_row,
    error_line,
    tree_from_rows,
    widgets_for,
)

TEXT_DEBOUNCE = 0.3  # seconds after the last keystroke in the text box
APPLY_DEBOUNCE = 0.15  # seconds after the last change before the table reloads


def labelled(row_id: str, label: str, field: Widget) -> Horizontal:
    """A row of the panel's top: a label, then its field."""
    return Horizontal(Label(label, classes="filter-label"), field, id=row_id)


def panel_of(screen: DOMNode) -> FilterPanel | None:
    """The screen's filter panel, once it was opened."""
    found = list(screen.query(FilterPanel).results(FilterPanel))
    return found[0] if found else None


class FilterPanel(Vertical):
    """The filter builder (see the module docstring)."""

    DEFAULT_CSS = Path(__file__).with_name("panel.tcss").read_text(encoding="utf-8")
    HELP_SECTION = "Filter builder"
    HELP_EXTRA = ("Filter syntax", FILTER_SYNTAX)

    BINDINGS: ClassVar[list[BindingType]] = FILTER_KEYS

    Applied: TypeAlias = messages.Applied
    Left: TypeAlias = messages.Left
    SaveRequested: TypeAlias = messages.SaveRequested
    RenameRequested: TypeAlias = messages.RenameRequested
    DeleteRequested: TypeAlias = messages.DeleteRequested

    # The error line and the segment buttons follow these (see the watchers).
    text_error: var[str] = var("", init=False)  # the text box's syntax error
    problems: var[tuple[str, ...]] = var((), init=False)  # rows left out, and why
    segment: var[str | None] = var(None, init=False)  # shown in the dropdown (= applied)

    def __init__(self, *, id: str | None = "filter-panel") -> None:
        super().__init__(id=id)
        self.filter_tree: Group = Group()
        self.applied: Group | None = None
        # The segment last loaded or saved, even after edits moved away from it: `s`
        # offers its name, to save the edited filter under it again.
        self.last_segment: str | None = None
        self.segments: dict[str, SegmentRow] = {}
        self.products: list[str] = []
        self.root_mode = Mode.AND
        self._text_timer: Timer | None = None
        self._apply_timer: Timer | None = None

    # -- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self.border_title = "Filter  (f hides · s saves · ctrl+n condition · ctrl+g group)"
        yield labelled(
            "filter-segment-row",
            "Segment",
            Select(
                [],
                prompt="load a saved segment…",
                compact=True,
                id="segment-select",
                tooltip="Load a saved segment (restores this panel)",
            ),
        )
        yield labelled(
            "filter-text-row",
            "Text",
            Input(
                placeholder='type a filter, e.g. product:"1:1 Coaching" status:active',
                compact=True,
                id="filter-text",
                max_length=10_000,
            ),
        )
        yield Static("", id="filter-error", markup=False)
        root_mode = choice(
            ROOT_MODES, Mode.AND, id="root-mode", tooltip="AND / OR of the rows below (ctrl+o)"
        )
        yield labelled("filter-mode-row", "Match", root_mode)
        yield Vertical(id="filter-rows")
        with Horizontal(id="filter-buttons"):
            yield Button(
                "+ Condition", compact=True, id="add-condition", tooltip="Add a condition (ctrl+n)"
            )
            yield Button(
                "+ Group",
                compact=True,
                id="add-group",
                tooltip="Add a group of conditions, one level deep (ctrl+g)",
            )
            yield Button("Clear", compact=True, id="clear-filter", tooltip="Remove every condition")
            # The segment's buttons come last in the tab order (after the rows), so that
            # shift+tab from the text box reaches the segment list, never Delete.
            yield Label("│ Segment:", id="segment-buttons-label")
            yield Button(
                "Save (s)",
                compact=True,
                id="segment-save",
                tooltip="Save the current filter as a segment",
            )
            # usable once a segment is chosen (watch_segment)
            none = self.segment is None
            yield Button(
                "Rename",
                compact=True,
                id="segment-rename",
                tooltip="Rename the chosen segment",
                disabled=none,
            )
            yield Button(
                "Delete",
                compact=True,
                id="segment-delete",
                tooltip="Delete the chosen segment",
                disabled=none,
            )

    def on_mount(self) -> None:
        self.refresh_lists()

    # -- public ----------------------------------------------------------------------
    @property
    def text_input(self) -> Input:
        return self.query_one("#filter-text", Input)

    async def set_tree(self, tree: Group, *, apply_now: bool = True) -> None:
        """Show `tree` in the rows and the text box, and apply it."""
        self.filter_tree = tree
        await self._rebuild(tree)
        self._set_text(to_text(tree))
        self.text_error = ""
        self.problems = ()
        if apply_now:
            self.apply_now()
        else:
            self._schedule_apply()

    def apply_now(self) -> None:
        if self._apply_timer is not None:
            self._apply_timer.stop()
            self._apply_timer = None
        flt: Group | None = None if normalize(self.filter_tree).is_empty else self.filter_tree
        if self.segment is not None and not self._shows_segment(flt):
            self.select_segment(None)  # edited away from it: the dropdown stops naming it
        if flt is None or self.applied is None:
            if flt is None and self.applied is None:
                return
        elif normalize(flt) == normalize(self.applied):
            return
        self.applied = flt
        self.post_message(self.Applied(flt))

    def _shows_segment(self, flt: Group | None) -> bool:
        """Is `flt` still the chosen segment's filter? (True when that is not known yet,
        e.g. just after saving it, before the list is read again.)"""
        row = self.segments.get(self.segment) if self.segment is not None else None
        if row is None or row.filter is None:
            return True
        return flt is not None and normalize(flt) == normalize(row.filter)

    def description(self, limit: int = 40) -> str:
        """What is applied, for the count line while the panel is hidden:
        `Segment "GP or free"`, `Filter status:active` (cut to `limit` characters), or ""."""
        if self.applied is None:
            return ""
        if self.segment is not None and self._shows_segment(self.applied):
            name = clean(self.segment)
            name = name if len(name) <= limit else name[: limit - 1] + "…"
            return f'Segment "{name}"'
        text = clean(to_text(self.applied))
        return "Filter " + (text if len(text) <= limit else text[: limit - 1] + "…")

    # -- rows ------------------------------------------------------------------------
    @property
    def _rows_box(self) -> Vertical:
        return self.query_one("#filter-rows", Vertical)

    async def _rebuild(self, tree: Group) -> None:
        box = self._rows_box
        await box.remove_children()
        widgets = widgets_for(tree, self.products)
        if widgets:
            await box.mount_all(widgets)
        self.root_mode = tree.mode
        root = self.query_one("#root-mode", Select)
        with self.prevent(Select.Changed):
            root.value = tree.mode

    def _edited(self) -> None:
        """Something in the rows changed: recompute the tree, show it, apply it."""
        tree, problems = tree_from_rows(self._rows_box, self.root_mode)
        self.problems = tuple(problems)
        if tree == self.filter_tree:
            return
        self.filter_tree = tree
        self._set_text(to_text(tree))
        self.text_error = ""
        self._schedule_apply()

    async def _add_row(self, into: Vertical, *, scroll: bool = True) -> None:
        row = ConditionRow(products=self.products)
        await into.mount(row)
        row.focus_first()
        if scroll:
            row.scroll_visible()
        self._edited()

    async def action_add_condition(self) -> None:
        await self._add_row(enclosing_group(self.screen.focused, self) or self._rows_box)

    async def action_add_group(self) -> None:
        row = ConditionRow(products=self.products)
        group = GroupBox(Mode.OR, [row])
        await self._rows_box.mount(group)
        row.focus_first()
        group.scroll_visible()
        self._edited()

    async def action_remove(self) -> None:
        target = enclosing_row(self.screen.focused, self)
        if target is not None:
            await self._remove(target)

    async def _remove(self, target: ConditionRow | GroupBox) -> None:
        parent = target.parent
        if isinstance(target, ConditionRow) and isinstance(parent, GroupBox):
            if len(parent.rows) == 1:
                target = parent  # the last row of a group: the group goes too
        await target.remove()
        self._edited()
        self._focus_after_change()

    def _focus_after_change(self) -> None:
        rows = list(self._rows_box.query(ConditionRow).results(ConditionRow))
        if rows:
            rows[-1].focus_first()
        else:
            self.query_one("#add-condition", Button).focus()

    def action_toggle_mode(self) -> None:
        group = enclosing_group(self.screen.focused, self)
        select = (
            group.query_one(".group-mode", Select)
            if group is not None
            else self.query_one("#root-mode", Select)
        )
        select.value = Mode.OR if select.value == Mode.AND else Mode.AND

    def action_leave(self) -> None:
        self.post_message(self.Left())

    @on(Button.Pressed, "#add-condition")
    async def _add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self._add_row(self._rows_box)

    @on(Button.Pressed, "#add-group")
    async def _add_group_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.action_add_group()

    @on(Button.Pressed, ".group-add")
    async def _group_add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        group = next(a for a in event.button.ancestors if isinstance(a, GroupBox))
        await self._add_row(group, scroll=False)

    @on(Button.Pressed, ".remove")
    async def _remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        row = event.button.parent
        if isinstance(row, ConditionRow):
            await self._remove(row)

    @on(Button.Pressed, ".group-remove")
    async def _group_remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        group = next(a for a in event.button.ancestors if isinstance(a, GroupBox))
        await self._remove(group)

    @on(Button.Pressed, "#clear-filter")
    async def _clear_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.set_tree(Group(self.root_mode, ()))
        self.query_one("#add-condition", Button).focus()

    @on(Select.Changed, "#root-mode")
    def _root_mode_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, Mode):
            self.root_mode = event.value
        self._edited()

    @on(Select.Changed, "#filter-rows Select")
    def _row_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.call_after_refresh(self._edited)

    @on(Input.Changed, "#filter-rows Input")
    def _row_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._edited()

    # -- text form -------------------------------------------------------------------
    def _set_text(self, text: str) -> None:
        box = self.text_input
        if box.value != text:
            with self.prevent(Input.Changed):
                box.value = text
                box.cursor_position = len(text)

    def watch_text_error(self) -> None:
        self._update_error_line()

    def watch_problems(self) -> None:
        self._update_error_line()

    def _update_error_line(self) -> None:
        if not self.is_mounted:
            return
        line = self.query_one("#filter-error", Static)
        text = error_line(self.text_error, self.problems)
        line.update(literal(text))
        line.display = bool(text)
        self.text_input.set_class(bool(self.text_error), "-invalid")

    @on(Input.Changed, "#filter-text")
    def _text_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._text_timer is not None:
            self._text_timer.stop()
        self._text_timer = self.set_timer(TEXT_DEBOUNCE, self._parse_text)

    @on(Input.Submitted, "#filter-text")
    async def _text_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self._parse_text()
        if not self.text_error:
            self.apply_now()

    async def _parse_text(self) -> None:
        if self._text_timer is not None:
            self._text_timer.stop()
            self._text_timer = None
        try:
            tree = parse(self.text_input.value)
        except FilterSyntaxError as exc:
            self.text_error = str(exc)
            return
        self.text_error = ""
        if tree == normalize(self.filter_tree):
            return  # the same filter, spelled differently: keep the rows as they are
        self.filter_tree = tree
        await self._rebuild(tree)
        self.problems = ()
        self._schedule_apply(0.0)

    # -- applying --------------------------------------------------------------------
    def _schedule_apply(self, delay: float = APPLY_DEBOUNCE) -> None:
        if self._apply_timer is not None:
            self._apply_timer.stop()
            self._apply_timer = None
        if delay <= 0:
            self.call_after_refresh(self.apply_now)
        else:
            self._apply_timer = self.set_timer(delay, self.apply_now)

    # -- products and segments -------------------------------------------------------
    @work(exclusive=True, group="filter-panel-lists")
    async def refresh_lists(self) -> None:
        """Re-read products and segments (in a thread)."""
        db = session(self).db

        def read() -> tuple[list[str], list[SegmentRow]]:
            return ProductsRepository(db).names(include_archived=True), SegmentsRepository(db).all()

        try:
            products, segments = await asyncio.to_thread(read)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.notify(escape_markup(describe_error(exc)), title="Filter", severity="error")
            return
        self._lists_loaded(products, segments)

    def _lists_loaded(self, products: list[str], segments: list[SegmentRow]) -> None:
        self.products = products
        for row in self.query(ConditionRow).results(ConditionRow):
            row.set_products(products)
        self.set_segments(segments)

    def set_segments(self, segments: list[SegmentRow]) -> None:
        self.segments = {s.name: s for s in segments}
        select = self.query_one("#segment-select", Select)
        with self.prevent(Select.Changed):
            select.set_options([(literal(s.name), s.name) for s in segments])
            if self.segment is not None and self.segment in self.segments:
                select.value = self.segment
            else:
                self.segment = None
        if self.last_segment not in self.segments:
            self.last_segment = None

    def watch_segment(self) -> None:
        """Rename and Delete act on the chosen segment: usable only while there is one."""
        if not self.is_mounted:
            return
        chosen = self.segment is not None
        self.query_one("#segment-rename", Button).disabled = not chosen
        self.query_one("#segment-delete", Button).disabled = not chosen

    @on(Select.Changed, "#segment-select")
    async def _segment_chosen(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        if not isinstance(value, str) or value == self.segment:
            return
        row = self.segments.get(value)
        if row is None:
            return
        if row.filter is None:
            self.notify(
                escape_markup(f"Segment “{clean(row.name)}” cannot be read: {row.problem}"),
                title="Segment",
                severity="error",
            )
            return
        self.segment = self.last_segment = value
        await self.set_tree(row.filter)

    def select_segment(self, name: str | None) -> None:
        """Show `name` as the chosen segment without loading it."""
        self.segment = name
        if name is not None:
            self.last_segment = name
        select = self.query_one("#segment-select", Select)
        with self.prevent(Select.Changed):
            if name is not None and name in self.segments:
                select.value = name
            else:
                select.clear()

    @on(Button.Pressed, "#segment-save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.SaveRequested())

    @on(Button.Pressed, "#segment-rename")
    def _rename_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RenameRequested())

    @on(Button.Pressed, "#segment-delete")
    def _delete_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.DeleteRequested())
