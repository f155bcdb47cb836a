"""The rows of the filter builder: one `ConditionRow` per condition, `GroupBox`
for a nested group (one level deep), and the tree they add up to.

Each row keeps its own state (`field`, `op`, `value`) in step with its widgets, so
the panel can read the tree at any moment (`tree_from_rows`) and show any tree
(`widgets_for`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select

from session_tui.data import filters
from session_tui.data.filters import Condition, FieldName, FilterError, Group, Mode, Op
from session_tui.ui.user_text import literal

T = TypeVar("T")

FIELD_OPTIONS: list[tuple[Text, FieldName]] = [
    (Text(filters.FIELD_LABELS[f]), f) for f in FieldName
]
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


def choice(
    options: Iterable[tuple[Text, T]],
    value: T,
    *,
    id: str | None = None,
    classes: str | None = None,
    tooltip: str | None = None,
) -> Select[T]:
    """A compact dropdown that always holds one of its values (no blank)."""
    return Select(
        options,
        value=value,
        allow_blank=False,
        compact=True,
        id=id,
        classes=classes,
        tooltip=tooltip,
    )


def _op_options(fld: FieldName) -> list[tuple[Text, Op]]:
    return [(Text(filters.OP_LABELS[op]), op) for op in filters.FIELD_OPS[fld]]


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
        self.op = op or filters.FIELD_OPS[fld][0]
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
            return None, f"{filters.FIELD_LABELS[self.field]}: {exc}"

    # -- widgets ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield choice(FIELD_OPTIONS, self.field, classes="field", tooltip="Field")
        yield choice(_op_options(self.field), self.op, classes="op", tooltip="Operator")
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
            values = filters.STATUS_VALUES if fld is FieldName.STATUS else filters.PAYMENT_VALUES
            value = self.value if self.value in values else values[0]
            self.value = value
            return choice([(Text(v), v) for v in values], value, classes="value")
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
        self.op = filters.FIELD_OPS[value][0]
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
            yield choice(
                GROUP_MODES,
                self.mode,
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


def tree_from_rows(box: Vertical, root_mode: Mode) -> tuple[Group, list[str]]:
    """The tree the rows in `box` add up to, and the problems of the rows left out
    (each row is marked, valid or not)."""
    items: list[Condition | Group] = []
    problems: list[str] = []

    def take(row: ConditionRow) -> Condition | None:
        cond, problem = row.condition()
        row.mark(problem)
        if problem:
            problems.append(problem)
        return cond

    for child in box.children:
        if isinstance(child, ConditionRow):
            cond = take(child)
            if cond is not None:
                items.append(cond)
        elif isinstance(child, GroupBox):
            inner = [c for c in (take(r) for r in child.rows) if c is not None]
            items.append(Group(child.mode, tuple(inner)))
    return Group(root_mode, tuple(items)), problems


def widgets_for(tree: Group, products: Sequence[str]) -> list[Widget]:
    """The rows (and groups) that show `tree`."""
    widgets: list[Widget] = []
    for item in tree.items:
        if isinstance(item, Group):
            rows = [ConditionRow.of(c, products) for c in item.conditions()]
            widgets.append(GroupBox(item.mode, rows))
        else:
            widgets.append(ConditionRow.of(item, products))
    return widgets


def enclosing_group(node: DOMNode | None, stop: DOMNode) -> GroupBox | None:
    """The group holding `node` (searched up to `stop`)."""
    while node is not None and node is not stop:
        if isinstance(node, GroupBox):
            return node
        node = node.parent
    return None


def enclosing_row(node: DOMNode | None, stop: DOMNode) -> ConditionRow | GroupBox | None:
    """The row, or else the group, holding `node` (searched up to `stop`)."""
    while node is not None and node is not stop:
        if isinstance(node, ConditionRow | GroupBox):
            return node
        node = node.parent
    return None


def error_line(text_error: str, problems: Sequence[str]) -> str:
    """The panel's warning: the text box's syntax error, else the rows left out."""
    if text_error:
        return f"⚠ {text_error}  (the last valid filter stays applied)"
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"⚠ {problems[0]}{more}  (that row is left out)"
    return ""
