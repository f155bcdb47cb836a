"""The preview's memberships: what the import would grant, and the two choices.

Shown when a column of the file holds memberships (products, tiers, ...):

- the counts line (the importer's headline: contacts added, memberships granted,
  products to create);
- the products the database does not have, and "Create these products" -- off by
  default: their memberships are skipped, and the line says how many;
- "Also grant the file's memberships to existing contacts" -- off by default.

Changing a choice posts `MembershipChoices.Changed`: the dialog previews again
with it, and imports with the choices the last preview showed.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Checkbox, Static

from session_tui.data.csvio import ImportReport
from session_tui.ui.modals.import_csv.membership_report import (
    MembershipOptions,
    headline,
    membership_counts,
    reads_memberships,
)
from session_tui.ui.user_text import clean, literal
from session_tui.ui.wording import plural

UPDATE_LABEL = "Also grant the file's memberships to existing contacts"


def products_text(names: tuple[str, ...]) -> Text:
    """`Not in the database yet: "Gold" · "Silver"` (names shown literally)."""
    text = Text()
    text.append("New products ", style="bold yellow")
    text.append_text(literal(" · ".join(f'"{clean(name)}"' for name in names), style="cyan"))
    text.append(f"  ({len(names):,} not in the database yet)", style="dim")
    text.no_wrap = False
    text.overflow = "fold"
    return text


def create_label(report: ImportReport, options: MembershipOptions) -> str:
    counts = membership_counts(report)
    n = len(counts.products_to_create)
    what = f"Create {'this product' if n == 1 else f'these {n:,} products'}"
    if options.create_products:
        return what
    return f"{what} (left off: {plural(counts.skipped, 'membership')} skipped)"


class MembershipChoices(Vertical):
    """The memberships line of the preview, with the choices that change it."""

    class Changed(Message):
        """The user changed a choice: preview again with `options`."""

        def __init__(self, options: MembershipOptions) -> None:
            super().__init__()
            self.options = options

    def compose(self) -> ComposeResult:
        yield Static("", id="import-memberships-line", markup=False)
        yield Static("", id="import-new-products", markup=False)
        yield Checkbox("", id="import-create-products", compact=True)
        yield Checkbox(UPDATE_LABEL, id="import-update-memberships", compact=True)

    @property
    def options(self) -> MembershipOptions:
        return MembershipOptions(
            create_products=self.query_one("#import-create-products", Checkbox).value,
            update_memberships=self.query_one("#import-update-memberships", Checkbox).value,
        )

    def reset(self) -> None:
        """Back to the defaults (another file), without previewing again."""
        with self.prevent(Checkbox.Changed):
            for box in self.query(Checkbox).results(Checkbox):
                box.value = False

    def show(self, report: ImportReport) -> None:
        """What `report` (a dry run with `options`) says about memberships."""
        self.display = reads_memberships(report.layout)
        if not self.display:
            return
        options = self.options
        line = Text()
        line.append("Memberships ", style="bold")
        line.append_text(literal(headline(report)))
        line.no_wrap = False
        line.overflow = "fold"
        self.query_one("#import-memberships-line", Static).update(line)
        names = membership_counts(report).products_to_create
        products = self.query_one("#import-new-products", Static)
        products.display = bool(names)
        products.update(products_text(names))
        create = self.query_one("#import-create-products", Checkbox)
        create.display = bool(names) or options.create_products
        create.label = create_label(report, options)

    @on(Checkbox.Changed)
    def _changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.options))
