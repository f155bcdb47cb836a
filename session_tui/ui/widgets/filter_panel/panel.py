"""FilterPanel: the filter builder shown above the contacts table (`f`).

Rows of conditions (field / operator / value), combined with AND or OR, with
groups one level deep; the same filter as text, typed or shown, both in sync;
saved segments in a dropdown. The panel owns a filter tree (`panel.filter_tree`) and
hands it to `apply(filter_or_None)` (ContactsScreen.set_filter) after a short
debounce; the table supersedes stale queries itself.

- Widgets -> tree: every edit recomputes the tree from the rows' own state
  (`ConditionRow.field/op/value`); incomplete rows (no value yet) and invalid ones
  (a bad date…) are left out and flagged. The text box then shows the tree's text.
- Text -> tree: what the user types is parsed (debounced); a syntax error is shown
  with its column and the last valid filter stays applied; a valid text rebuilds
  the rows.
- Segments: choosing one restores its exact tree; `save_segment()` (key `s`),
  `rename_segment()`, `delete_segment()` run their database work in threads.

Messages: `FilterPanel.Applied(filter)` after the filter was handed to `apply`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from session_tui.data.db import Database, describe_error
from session_tui.data.filters import (
    FIELD_LABELS,
    FIELD_OPS,
    OP_LABELS,
    PAYMENT_VALUES,
    STATUS_VALUES,
    Condition,
    FieldName,
    FilterError,
    FilterSyntaxError,
    Group,
    Mode,
    Op,
    normalize,
    parse,
    to_text,
)
from session_tui.data.repositories.segments import SegmentRow
from session_tui.ui.filter_help import FILTER_SYNTAX
from session_tui.ui.user_text import clean, escape_markup, literal

TEXT_DEBOUNCE = 0.3  # seconds after the last keystroke in the text box
APPLY_DEBOUNCE = 0.15  # seconds after the last change before the table reloads

FIELD_OPTIONS: list[tuple[Text, FieldName]] = [(Text(FIELD_LABELS[f]), f) for f in FieldName]
DEFAULT_VALUES: dict[FieldName, str] = {FieldName.STATUS: "active", FieldName.PAYMENT: "paid"}
PLACEHOLDERS: dict[FieldName, str] = {
    FieldName.SEARCH: "name or email text",
    FieldName.JOINED: "YYYY-MM-DD",
    FieldName.EXPIRES: "days, e.g. 30",
    FieldName.DOMAIN: "e.g. gmail.com",
}
ROOT_MODES: list[tuple[Text, Mode]] = [
    (Text("all of these (and)"), Mode.AND),
    (Text("any of these (or)"), Mode.OR),
]
GROUP_MODES: list[tuple[Text, Mode]] = [(Text("all (and)"), Mode.AND), (Text("any (or)"), Mode.OR)]


def _op_options(fld: FieldName) -> list[tuple[Text, Op]]:
    return [(Text(OP_LABELS[op]), op) for op in FIELD_OPS[fld]]


class ConditionRow(Horizontal):
    """One condition. Its state (`field`, `op`, `value`) is kept here, in step with
    the widgets, so the panel can read the tree at any moment."""

    def __init__(
        self,
        fld: FieldName = FieldName.PRODUCT,
        op: Op | None = None,
        value: str = "",
        products: Sequence[str] = (),
    ) -> None:
        super().__init__(classes="condition-row")
        self.field = fld
        self.op = op or FIELD_OPS[fld][0]
        self.value = value
        self._products = list(products)

    @classmethod
    def of(cls, cond: Condition, products: Sequence[str]) -> ConditionRow:
        return cls(cond.field, cond.op, cond.value, products)

    # -- state -----------------------------------------------------------------------
    def condition(self) -> tuple[Condition | None, str]:
        """(the condition, "") when complete; (None, problem) when invalid;
        (None, "") when it has no value yet."""
        if not self.value.strip():
            return None, ""
        try:
            return Condition(self.field, self.op, self.value), ""
        except FilterError as exc:
            return None, f"{FIELD_LABELS[self.field]}: {exc}"

    # -- widgets ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Select(
            FIELD_OPTIONS,
            value=self.field,
            allow_blank=False,
            compact=True,
            classes="field",
            tooltip="Field",
        )
        yield Select(
            _op_options(self.field),
            value=self.op,
            allow_blank=False,
            compact=True,
            classes="op",
            tooltip="Operator",
        )
        yield self._value_widget()
        yield Button("✕", compact=True, classes="remove", tooltip="Remove this condition (delete)")

    def _product_options(self) -> list[tuple[Text, str]]:
        names = list(self._products)
        options = [(literal(n), n) for n in names]
        if self.value and self.value.lower() not in {n.lower() for n in names}:
            options.append((literal(f"{self.value} (no such product)", style="italic"), self.value))
        return options

    def _value_widget(self) -> Widget:
        fld = self.field
        if fld is FieldName.PRODUCT:
            current = self._matching_product(self.value)
            return Select(
                self._product_options(),
                value=current if current else Select.NULL,
                prompt="choose a product",
                compact=True,
                classes="value",
            )
        if fld in (FieldName.STATUS, FieldName.PAYMENT):
            values = STATUS_VALUES if fld is FieldName.STATUS else PAYMENT_VALUES
            value = self.value if self.value in values else values[0]
            self.value = value
            return Select(
                [(Text(v), v) for v in values],
                value=value,
                allow_blank=False,
                compact=True,
                classes="value",
            )
        return Input(
            value=self.value,
            placeholder=PLACEHOLDERS.get(fld, ""),
            compact=True,
            classes="value",
            max_length=300,
        )

    def _matching_product(self, value: str) -> str:
        for name in self._products:
            if name.lower() == value.lower():
                return name
        return value

    def set_products(self, products: Sequence[str]) -> None:
        self._products = list(products)
        if self.field is not FieldName.PRODUCT or not self.is_mounted:
            return
        select = self.query_one(".value", Select)
        if self.value:
            self.value = self._matching_product(self.value)
        with self.prevent(Select.Changed):
            select.set_options(self._product_options())
            select.value = self.value if self.value else Select.NULL

    def mark(self, problem: str) -> None:
        self.set_class(bool(problem), "-invalid")
        self.tooltip = problem or None

    def focus_first(self) -> None:
        self.query_one(".field", Select).focus()

    @on(Select.Changed, ".field")
    async def _field_changed(self, event: Select.Changed) -> None:
        value = event.value
        if not isinstance(value, FieldName) or value is self.field:
            return
        self.field = value
        self.op = FIELD_OPS[value][0]
        self.value = DEFAULT_VALUES.get(value, "")
        op_select = self.query_one(".op", Select)
        with self.prevent(Select.Changed):
            op_select.set_options(_op_options(value))
            op_select.value = self.op
        await self.query_one(".value").remove()
        await self.mount(self._value_widget(), before=self.query_one(".remove"))

    @on(Select.Changed, ".op")
    def _op_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, Op):
            self.op = event.value

    @on(Select.Changed, ".value")
    def _value_chosen(self, event: Select.Changed) -> None:
        self.value = "" if event.value is Select.NULL else str(event.value)

    @on(Input.Changed, ".value")
    def _value_typed(self, event: Input.Changed) -> None:
        self.value = event.value


class GroupBox(Vertical):
    """A nested group: its own AND/OR and its conditions (one level deep)."""

    def __init__(self, mode: Mode = Mode.OR, rows: Sequence[ConditionRow] = ()) -> None:
        super().__init__(classes="group-box")
        self.mode = mode
        self._rows = list(rows)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="group-head"):
            yield Label("Group: match", classes="group-label")
            yield Select(
                GROUP_MODES,
                value=self.mode,
                allow_blank=False,
                compact=True,
                classes="group-mode",
                tooltip="AND / OR within the group (ctrl+o)",
            )
            yield Button(
                "+ condition",
                compact=True,
                classes="group-add",
                tooltip="Add a condition to this group (ctrl+n)",
            )
            yield Button(
                "✕ group",
                compact=True,
                classes="group-remove",
                tooltip="Remove this group and its conditions",
            )
        yield from self._rows

    @property
    def rows(self) -> list[ConditionRow]:
        return list(self.query_children(ConditionRow).results(ConditionRow))

    @on(Select.Changed, ".group-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, Mode):
            self.mode = event.value


class FilterPanel(Vertical):
    """The filter builder (see the module docstring)."""

    DEFAULT_CSS = Path(__file__).with_name("panel.tcss").read_text(encoding="utf-8")
    HELP_SECTION = "Filter builder"
    HELP_EXTRA = ("Filter syntax", FILTER_SYNTAX)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+n",
            "add_condition",
            "New condition",
            show=True,
            tooltip="Add a condition (to the group holding the focus)",
            id="filter.add_condition",
        ),
        Binding(
            "ctrl+g",
            "add_group",
            "New group",
            show=True,
            tooltip="Add a group of conditions (one level deep)",
            id="filter.add_group",
        ),
        Binding(
            "delete,ctrl+delete",
            "remove",
            "Remove row",
            show=False,
            tooltip="Remove the condition (or group) holding the focus (outside text boxes)",
            id="filter.remove",
        ),
        Binding(
            "ctrl+o",
            "toggle_mode",
            "AND/OR",
            show=True,
            tooltip="Switch the group holding the focus between AND and OR",
            id="filter.toggle_mode",
        ),
        Binding("escape", "leave", "Table", key_display="esc",
                tooltip="Back to the table (the filter stays applied)", id="filter.leave"),
    ]

    class Applied(Message):
        """The panel handed a new filter to the table (None = no filter)."""

        def __init__(self, panel: FilterPanel, flt: Group | None) -> None:
            super().__init__()
            self.panel = panel
            self.filter = flt

    def __init__(
        self,
        db: Database,
        apply: Callable[[Group | None], None],
        leave: Callable[[], None] | None = None,
        *,
        id: str | None = "filter-panel",
    ) -> None:
        super().__init__(id=id)
        self.db = db
        self._apply_cb = apply
        self._leave_cb = leave
        self.filter_tree: Group = Group()
        self.applied: Group | None = None
        self.segment: str | None = None  # the segment shown in the dropdown (= applied)
        # The segment last loaded or saved, even after edits moved away from it: `s`
        # offers its name, to save the edited filter under it again.
        self.last_segment: str | None = None
        self.segments: dict[str, SegmentRow] = {}
        self.products: list[str] = []
        self.root_mode = Mode.AND
        self.text_error = ""
        self._text_timer: Timer | None = None
        self._apply_timer: Timer | None = None

    # -- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self.border_title = "Filter  (f hides · s saves · ctrl+n condition · ctrl+g group)"
        with Horizontal(id="filter-segment-row"):
            yield Label("Segment", classes="filter-label")
            yield Select(
                [],
                prompt="load a saved segment…",
                compact=True,
                id="segment-select",
                tooltip="Load a saved segment (restores this panel)",
            )
        with Horizontal(id="filter-text-row"):
            yield Label("Text", classes="filter-label")
            yield Input(
                placeholder='type a filter, e.g. product:"1:1 Coaching" status:active',
                compact=True,
                id="filter-text",
                max_length=10_000,
            )
        yield Static("", id="filter-error", markup=False)
        with Horizontal(id="filter-mode-row"):
            yield Label("Match", classes="filter-label")
            yield Select(
                ROOT_MODES,
                value=Mode.AND,
                allow_blank=False,
                compact=True,
                id="root-mode",
                tooltip="AND / OR of the rows below (ctrl+o)",
            )
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
            yield Button(
                "Rename", compact=True, id="segment-rename", tooltip="Rename the chosen segment"
            )
            yield Button(
                "Delete", compact=True, id="segment-delete", tooltip="Delete the chosen segment"
            )

    def on_mount(self) -> None:
        self.refresh_lists()

    # -- public ----------------------------------------------------------------------
    @property
    def text_input(self) -> Input:
        return self.query_one("#filter-text", Input)

    def refresh_lists(self) -> None:
        """Re-read products and segments (in a thread)."""
        self._load_lists()

    async def set_tree(self, tree: Group, *, apply_now: bool = True) -> None:
        """Show `tree` in the rows and the text box, and apply it."""
        self.filter_tree = tree
        await self._rebuild(tree)
        self._set_text(to_text(tree))
        self._show_text_error("")
        self._show_problems([])
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
        if (
            flt is not None
            and self.applied is not None
            and normalize(flt) == normalize(self.applied)
        ):
            return
        if flt is None and self.applied is None:
            return
        self.applied = flt
        self._apply_cb(flt)
        self.post_message(self.Applied(self, flt))

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

    def _tree_from_widgets(self) -> tuple[Group, list[str]]:
        items: list[Condition | Group] = []
        problems: list[str] = []

        def take(row: ConditionRow) -> Condition | None:
            cond, problem = row.condition()
            row.mark(problem)
            if problem:
                problems.append(problem)
            return cond

        for child in self._rows_box.children:
            if isinstance(child, ConditionRow):
                cond = take(child)
                if cond is not None:
                    items.append(cond)
            elif isinstance(child, GroupBox):
                inner = [c for c in (take(r) for r in child.rows) if c is not None]
                items.append(Group(child.mode, tuple(inner)))
        return Group(self.root_mode, tuple(items)), problems

    async def _rebuild(self, tree: Group) -> None:
        box = self._rows_box
        await box.remove_children()
        widgets: list[Widget] = []
        for item in tree.items:
            if isinstance(item, Group):
                rows = [ConditionRow.of(c, self.products) for c in item.conditions()]
                widgets.append(GroupBox(item.mode, rows))
            else:
                widgets.append(ConditionRow.of(item, self.products))
        if widgets:
            await box.mount_all(widgets)
        self.root_mode = tree.mode
        root = self.query_one("#root-mode", Select)
        with self.prevent(Select.Changed):
            root.value = tree.mode

    def _edited(self) -> None:
        """Something in the rows changed: recompute the tree, show it, apply it."""
        tree, problems = self._tree_from_widgets()
        self._show_problems(problems)
        if tree == self.filter_tree:
            return
        self.filter_tree = tree
        self._set_text(to_text(tree))
        self._show_text_error("")
        self._schedule_apply()

    def _group_of_focus(self) -> GroupBox | None:
        node = self.screen.focused
        while node is not None and node is not self:
            if isinstance(node, GroupBox):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def _row_of_focus(self) -> ConditionRow | GroupBox | None:
        node = self.screen.focused
        while node is not None and node is not self:
            if isinstance(node, ConditionRow | GroupBox):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    async def action_add_condition(self) -> None:
        row = ConditionRow(products=self.products)
        group = self._group_of_focus()
        await (group or self._rows_box).mount(row)
        row.focus_first()
        row.scroll_visible()
        self._edited()

    async def action_add_group(self) -> None:
        row = ConditionRow(products=self.products)
        group = GroupBox(Mode.OR, [row])
        await self._rows_box.mount(group)
        row.focus_first()
        group.scroll_visible()
        self._edited()

    async def action_remove(self) -> None:
        target = self._row_of_focus()
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
        group = self._group_of_focus()
        select = (
            group.query_one(".group-mode", Select)
            if group is not None
            else self.query_one("#root-mode", Select)
        )
        select.value = Mode.OR if select.value == Mode.AND else Mode.AND

    def action_leave(self) -> None:
        if self._leave_cb is not None:
            self._leave_cb()

    @on(Button.Pressed, "#add-condition")
    async def _add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        row = ConditionRow(products=self.products)
        await self._rows_box.mount(row)
        row.focus_first()
        row.scroll_visible()
        self._edited()

    @on(Button.Pressed, "#add-group")
    async def _add_group_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.action_add_group()

    @on(Button.Pressed, ".group-add")
    async def _group_add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        group = next(a for a in event.button.ancestors if isinstance(a, GroupBox))
        row = ConditionRow(products=self.products)
        await group.mount(row)
        row.focus_first()
        self._edited()

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

    def _show_text_error(self, message: str) -> None:
        self.text_error = message
        self._update_error_line()

    def _show_problems(self, problems: list[str]) -> None:
        self._problems = problems
        self._update_error_line()

    def _update_error_line(self) -> None:
        line = self.query_one("#filter-error", Static)
        problems: list[str] = getattr(self, "_problems", [])
        if self.text_error:
            text = f"⚠ {self.text_error}  (the last valid filter stays applied)"
        elif problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            text = f"⚠ {problems[0]}{more}  (that row is left out)"
        else:
            text = ""
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
            self._show_text_error(str(exc))
            return
        self._show_text_error("")
        if tree == normalize(self.filter_tree):
            return  # the same filter, spelled differently: keep the rows as they are
        self.filter_tree = tree
        await self._rebuild(tree)
        self._show_problems([])
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
    @work(thread=True, exclusive=True, group="filter-panel-lists")
    def _load_lists(self) -> None:
        from session_tui.data.repositories.products import ProductsRepository
        from session_tui.data.repositories.segments import SegmentsRepository

        try:
            products = ProductsRepository(self.db).names(include_archived=True)
            segments = SegmentsRepository(self.db).all()
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.app.call_from_thread(
                self.notify,
                escape_markup(describe_error(exc)),
                title="Filter",
                severity="error",
            )
            return
        self.app.call_from_thread(self._lists_loaded, products, segments)

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
        self._update_segment_buttons()

    def _update_segment_buttons(self) -> None:
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
        self._update_segment_buttons()
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
        self._update_segment_buttons()

    @on(Button.Pressed, "#segment-save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        from session_tui.ui.widgets.filter_panel.flows import save_segment_from_panel

        save_segment_from_panel(self)

    @on(Button.Pressed, "#segment-rename")
    def _rename_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        from session_tui.ui.widgets.filter_panel.flows import rename_segment

        rename_segment(self)

    @on(Button.Pressed, "#segment-delete")
    def _delete_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        from session_tui.ui.widgets.filter_panel.flows import delete_segment

        delete_segment(self)
