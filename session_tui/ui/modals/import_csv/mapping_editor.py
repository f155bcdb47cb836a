"""The import dialog's mapping step: one line per column of the file -- its header,
its first values and the field it holds (a Select) -- all from the keyboard.

`tab` / `shift+tab` move from column to column; `enter` (or space, up, down) opens
a column's list of fields, the arrows choose, `enter` takes one. Everything from
the file (headers, values) is shown literally.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Select, Static

from session_tui.data.csvio.mapping import FIELDS, IGNORE, ColumnMapping, shown_header
from session_tui.ui.user_text import literal

# What the list of fields says (short: the Select is narrow at 80 columns).
FIELD_CHOICES = {
    "email": "email",
    "first_name": "first name",
    "last_name": "last name",
    "full_name": "full name",
    "created_at": "joined",
    "products": "products",
    "payment_types": "payment type",
    "tiers": "tiers (Ghost)",
    "complimentary": "complimentary (Ghost)",
    "memberships": "memberships (ours)",
    IGNORE: "ignore",
}
OPTIONS = [(FIELD_CHOICES[name], name) for name in (*FIELDS, IGNORE)]


def select_id(column: int) -> str:
    return f"import-map-{column}"


def samples_text(values: Sequence[str]) -> Text:
    """`a@x.es · b@x.es · …` (dim), cut to the room there is."""
    if not values:
        return Text("(empty in the first rows)", style="dim italic")
    return literal(" · ".join(values), style="dim")


class MappingRow(Horizontal):
    """One column: header, values, the field it holds."""

    def __init__(self, column: int, header: str, values: Sequence[str], field: str) -> None:
        super().__init__(classes="mapping-row")
        self.column = column
        self._header = header
        self._values = values
        self._field = field

    def compose(self) -> ComposeResult:
        yield Label(literal(self._header, style="bold"), classes="mapping-header")
        yield Static(samples_text(self._values), classes="mapping-values")
        yield Select(
            OPTIONS,
            value=self._field,
            allow_blank=False,
            compact=True,
            id=select_id(self.column),
            classes="mapping-field",
        )


class MappingEditor(Vertical):
    """The rows of the mapping step (`load` fills them, `mapping` reads them), and a
    line saying what is wrong with the mapping as it stands, if anything."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._header: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        with Horizontal(id="import-mapping-legend"):
            yield Static("Column", classes="mapping-header")
            yield Static("First values in the file", classes="mapping-values")
            yield Static("Holds", classes="mapping-field")
        yield VerticalScroll(id="import-mapping-rows", can_focus=False)
        yield Static("", id="import-mapping-problem", markup=False)

    async def load(self, mapping: ColumnMapping, samples: Sequence[Sequence[str]]) -> None:
        """One row per column of `mapping`, its field preselected."""
        self._header = mapping.header
        rows = self.query_one("#import-mapping-rows", VerticalScroll)
        await rows.remove_children()
        await rows.mount_all(
            MappingRow(
                index,
                shown_header(mapping.header, index),
                samples[index] if index < len(samples) else (),
                mapping.fields[index] or IGNORE,
            )
            for index in range(len(mapping.header))
        )
        rows.scroll_home(animate=False)
        self._show_problem()

    def mapping(self) -> ColumnMapping:
        """The fields as the rows now say."""
        mapping = ColumnMapping.empty(self._header)
        for row in self.query(MappingRow).results(MappingRow):
            value = row.query_one(Select).value
            mapping = mapping.with_field(row.column, value if isinstance(value, str) else None)
        return mapping

    def first_field(self) -> Select[str] | None:
        found = self.query(".mapping-field").results(Select)
        return next(iter(found), None)

    @on(Select.Changed)
    def _show_problem(self) -> None:
        problem = self.mapping().problem()
        line = self.query_one("#import-mapping-problem", Static)
        line.display = problem is not None
        line.update(literal(f"{problem}." if problem else ""))
