"""Contact detail (`enter` on a contact): its memberships and the full history timeline.

`ContactDetailScreen(contact_id)` is a `Screen[bool]` pushed on top of the current
screen; `escape` goes back and dismisses with True when something was changed here
(so the caller reloads). Memberships show product, payment type, status, started and
expires (with relative text: "in 5 days", "3 months ago"); the history lists every
event of every membership newest first -- time (local), kind, product, detail, actor --
including the `expired` event of each membership whose expiry has passed (derived
from the clock, see MembershipsRepository.history).

Keys: `a` add a membership for this contact, and on the selected membership `x` new
expiry date, `d` / `delete` cancel, `t` payment type.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label, Static

from session_tui.data.db import describe_error
from session_tui.data.enums import EventKind, Status
from session_tui.data.repositories.contacts import ContactRow, ContactsRepository
from session_tui.data.repositories.memberships import (
    HistoryEvent,
    MembershipRow,
    MembershipsRepository,
)
from session_tui.ui.context import session
from session_tui.ui.moments import day, local_day, local_time, relative
from session_tui.ui.screens.membership_changes import MembershipChanges
from session_tui.ui.user_text import clean, escape_markup, literal

KIND_LABEL = {
    EventKind.GRANTED: "granted",
    EventKind.REACTIVATED: "reactivated",
    EventKind.EXTENDED: "extended",
    EventKind.PAYMENT_CHANGED: "payment changed",
    EventKind.CANCELLED: "cancelled",
    EventKind.EXPIRED: "expired",
}
KIND_STYLE = {
    EventKind.GRANTED: "green",
    EventKind.REACTIVATED: "green",
    EventKind.EXTENDED: "cyan",
    EventKind.PAYMENT_CHANGED: "magenta",
    EventKind.CANCELLED: "red",
    EventKind.EXPIRED: "yellow",
}


@dataclass(frozen=True)
class DetailData:
    contact: ContactRow | None
    memberships: list[MembershipRow]
    history: list[HistoryEvent]
    now: datetime


def contact_status(memberships: list[MembershipRow]) -> Status:
    if not memberships:
        return Status.NONE
    if any(m.status is Status.ACTIVE for m in memberships):
        return Status.ACTIVE
    return Status.EXPIRED


def when_text(moment: datetime | None, now: datetime, never: str = "never") -> Text:
    if moment is None:
        return Text(never, style="dim")
    return Text.assemble(day(moment), ("  " + relative(moment, now), "dim"))


class ContactDetailScreen(MembershipChanges[bool]):
    """One contact: memberships and history."""

    CSS_PATH = "contact_detail.tcss"
    HELP_SECTION = "Contact detail"
    AUTO_FOCUS = "#detail-memberships"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="detail.back"),
        Binding("a", "add", "Add", tooltip="Add a membership for this contact", id="detail.add"),
        Binding(
            "x",
            "extend",
            "Expiry",
            tooltip="Set a new expiry date for the selected membership",
            id="detail.extend",
        ),
        Binding(
            "d,delete",
            "cancel_membership",
            "Cancel",
            key_display="d",
            tooltip="Cancel the selected membership (asks first)",
            id="detail.cancel",
        ),
        Binding(
            "t",
            "payment",
            "Payment",
            tooltip="Change the selected membership's payment type",
            id="detail.payment",
        ),
    ]

    def __init__(self, contact_id: int) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.changed = False
        self.data: DetailData | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="detail-body"):
            yield Static("Loading…", id="detail-head")
            yield Label("Memberships", classes="detail-section")
            yield DataTable(id="detail-memberships", cursor_type="row", zebra_stripes=True)
            yield Label("History (newest first)", classes="detail-section")
            yield DataTable(id="detail-history", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Contact"
        memberships = self.query_one("#detail-memberships", DataTable)
        memberships.add_columns("Product", "Payment", "Status", "Started", "Expires")
        history = self.query_one("#detail-history", DataTable)
        history.add_columns("When", "What", "Product", "Detail", "By")
        self.load()

    # -- data ----------------------------------------------------------------------------
    def load(self) -> None:
        self._load_worker(self.contact_id)

    @work(exclusive=True, group="contact-detail-load")
    async def _load_worker(self, contact_id: int) -> None:
        try:
            data = await asyncio.to_thread(self._read, contact_id)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.notify(
                escape_markup(describe_error(exc)), title="Database error", severity="error"
            )
            return
        self._show(data)

    def _read(self, contact_id: int) -> DetailData:
        """(In a thread.) The contact, its memberships and their history."""
        app = session(self)
        repo = MembershipsRepository(app.db, app.clock)
        contact = ContactsRepository(app.db).get(contact_id)
        memberships = repo.for_contact(contact_id) if contact else []
        history = repo.history(contact_id) if contact else []
        return DetailData(contact, memberships, history, app.clock())

    def _show(self, data: DetailData) -> None:
        if not self.is_attached:
            return  # loaded after the screen was closed
        self.data = data
        head = self.query_one("#detail-head", Static)
        if data.contact is None:
            head.update(Text("This contact no longer exists (deleted meanwhile?).", "bold"))
            self.query_one("#detail-memberships", DataTable).clear()
            self.query_one("#detail-history", DataTable).clear()
            return
        c = data.contact
        status = contact_status(data.memberships)
        text = Text()
        text.append_text(literal(c.full_name or "(no name)", style="bold"))
        text.append("  ")
        text.append_text(literal(c.email))
        text.append("\n")
        text.append(
            status.value, style={"active": "green", "expired": "yellow"}.get(status.value, "dim")
        )
        text.append(
            f" · joined {local_day(c.created_at)}"
            f" · {len(data.memberships)} membership{'s' if len(data.memberships) != 1 else ''}",
            style="dim",
        )
        head.update(text)
        self.sub_title = clean(c.email)  # the header writes it as-is: no ESC/BEL

        table = self.query_one("#detail-memberships", DataTable)
        cursor = table.cursor_row
        table.clear()
        for m in data.memberships:
            if m.cancelled_at is not None:
                state = Text("cancelled", style="red")
                expires = Text.assemble(("cancelled " + relative(m.cancelled_at, data.now), "dim"))
            else:
                state = Text(m.status.value, "green" if m.status is Status.ACTIVE else "yellow")
                expires = when_text(m.expires_at, data.now)
            product = literal(m.product, style="dim" if m.product_archived else "")
            table.add_row(
                product,
                literal(m.payment_type),
                state,
                when_text(m.started_at, data.now),
                expires,
                key=str(m.id),
            )
        if data.memberships:
            table.move_cursor(row=min(cursor, len(data.memberships) - 1))

        history = self.query_one("#detail-history", DataTable)
        history.clear()
        for e in data.history:
            kind = e.kind if isinstance(e.kind, EventKind) else None
            label = KIND_LABEL.get(kind, str(e.kind)) if kind else str(e.kind)
            history.add_row(
                Text(local_time(e.at)),
                literal(label, style=KIND_STYLE.get(kind, "") if kind else ""),
                literal(e.product),
                literal(e.detail)
                if e.detail
                else Text("—" if not e.derived else "by the clock", style="dim"),
                literal(e.actor) if e.actor else Text("—", style="dim"),
            )
        self.refresh_bindings()

    # -- actions ----------------------------------------------------------------------------
    def current_membership(self) -> MembershipRow | None:
        if self.data is None or not self.data.memberships:
            return None
        index = self.query_one("#detail-memberships", DataTable).cursor_row
        if 0 <= index < len(self.data.memberships):
            return self.data.memberships[index]
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("extend", "cancel_membership", "payment"):
            return self.current_membership() is not None
        if action == "add":
            return self.data is not None and self.data.contact is not None
        return True

    def after_membership_change(self, changed: bool) -> None:
        if changed:
            self.changed = True
            self.load()

    def action_back(self) -> None:
        self.dismiss(self.changed)

    def action_add(self) -> None:
        if self.data is not None and self.data.contact is not None:
            self.add_membership(self.data.contact.email)

    def action_extend(self) -> None:
        row = self.current_membership()
        if row is not None:
            self.extend_membership(row)

    def action_cancel_membership(self) -> None:
        row = self.current_membership()
        if row is not None:
            self.cancel_membership(row)

    def action_payment(self) -> None:
        row = self.current_membership()
        if row is not None:
            self.change_payment(row)
