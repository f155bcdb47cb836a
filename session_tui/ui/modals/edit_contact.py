"""Edit one contact: first name, last name, email (`e` on the Contacts table).

`EditContactModal(db, row)` is a `Dialog[ContactRow]`: it dismisses
with the saved contact, or None on `escape` / Cancel (nothing written).

- Saving normalises (trim, lower-case email, control characters removed) and
  validates first; problems appear beside their field and nothing is written:
  empty or invalid email, a name over 200 characters, an email another contact
  already has (ignoring case; checked by the database write).
- The write (`data.editing.update_contact`) runs in a thread worker and is
  guarded by the contact's `version`: if another user or process changed the
  contact since the modal was opened, nothing is written and the modal says so,
  showing the current values; "Reload" puts them in the form (with the new
  version) so the user can make the edit again on top of them.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from session_tui.data.db import Database, describe_error
from session_tui.data.editing import VersionConflict, update_contact, validation_errors
from session_tui.data.repositories.contacts import ContactRow
from session_tui.data.validation import MAX_EMAIL, MAX_NAME, ValidationError
from session_tui.ui.modals.base import Dialog, ErrorLine, cancel_binding, cancel_button
from session_tui.ui.user_text import clean, literal

FIELDS = ("first_name", "last_name", "email")
LABELS = {"first_name": "First name", "last_name": "Last name", "email": "Email"}


class EditContactModal(Dialog[ContactRow]):
    CSS_PATH = "edit_contact.tcss"
    HELP_SECTION = "Edit contact"
    WRAP_ERRORS = True

    BINDINGS: ClassVar[list[BindingType]] = [
        cancel_binding("edit.cancel", "Cancel (nothing is written)"),
        Binding("ctrl+s", "save", "Save", id="edit.save"),
    ]

    def __init__(self, db: Database, row: ContactRow) -> None:
        super().__init__()
        self.db = db
        self.row = row
        self.version = row.version
        self._current: ContactRow | None = None  # the other user's version, after a conflict

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        values = {
            "first_name": self.row.first_name,
            "last_name": self.row.last_name,
            "email": self.row.email,
        }
        with Vertical(id="edit-dialog"):
            yield Label("Edit contact", id="edit-title")
            yield Static(self._subtitle(), id="edit-subtitle")
            for field in FIELDS:
                with Horizontal(classes="edit-row"):
                    yield Label(LABELS[field], classes="edit-label")
                    with Vertical(classes="edit-field"):
                        yield Input(
                            value=clean(values[field]),
                            id=f"edit-{field}",
                            placeholder="name@example.com" if field == "email" else "",
                        )
                        yield ErrorLine(field)
            yield ErrorLine("general")
            with Vertical(id="conflict"):
                yield Static("", id="conflict-text")
                with Horizontal(id="conflict-buttons"):
                    yield Button("Reload the current values", id="edit-reload")
            with Horizontal(id="edit-buttons"):
                yield Button(
                    "Save (enter)", variant="primary", id="edit-save", action="screen.save"
                )
                yield cancel_button("Cancel (escape)", id="edit-cancel")

    def _subtitle(self) -> Text:
        text = Text("Contact #", style="dim")
        text.append(str(self.row.id), style="dim")
        text.append(f" · version {self.version}", style="dim")
        text.append(f" · names up to {MAX_NAME} characters, email up to {MAX_EMAIL}", style="dim")
        return text

    def on_mount(self) -> None:
        self.query_one("#conflict").display = False
        self.focus_input(self.query_one("#edit-first_name", Input))

    # -- state ---------------------------------------------------------------------------
    def values(self) -> tuple[str, str, str]:
        first, last, email = (self.query_one(f"#edit-{f}", Input).value for f in FIELDS)
        return first, last, email

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.query_one("#edit-save", Button).disabled = busy

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        field = (event.input.id or "").removeprefix("edit-")
        if field in FIELDS:
            self.hide_error(field)

    # -- actions -------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self._busy or self.query_one("#edit-save", Button).disabled:
            return
        self.clear_errors()
        first, last, email = self.values()
        errors = validation_errors(first, last, email)
        if errors:
            for field, message in errors.items():
                self.show_error(field, message)
            self._focus_field(next(f for f in FIELDS if f in errors))
            return
        self._set_busy(True)
        self._save_worker(self.row.id, self.version, first, last, email)

    def _focus_field(self, field: str) -> None:
        self.query_one(f"#edit-{field}", Input).focus()

    @work(exclusive=True, group="edit-contact")
    async def _save_worker(
        self, contact_id: int, version: int, first: str, last: str, email: str
    ) -> None:
        try:
            saved = await self.in_thread(
                update_contact, self.db, contact_id, version, first, last, email
            )
        except ValidationError as exc:
            self._failed(exc.field, exc.message)
        except VersionConflict as exc:
            self._conflict(exc)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            self._failed("", f"Not saved: {describe_error(exc)}")
        else:
            self._busy = False
            self.close(saved)

    def _failed(self, field: str, message: str) -> None:
        self._set_busy(False)
        self.show_error(field, message)
        if field in FIELDS:
            self._focus_field(field)

    def _conflict(self, exc: VersionConflict) -> None:
        self._set_busy(False)
        self._current = exc.current
        box = self.query_one("#conflict")
        box.display = True
        text = Text()
        if exc.current is None:
            text.append(
                "Another user deleted this contact while you were editing it. ", style="bold"
            )
            text.append("Nothing was saved. Press escape to close.")
            self.query_one("#edit-reload", Button).display = False
            self.query_one("#edit-save", Button).disabled = True
        else:
            cur = exc.current
            text.append(
                "Another user changed this contact while you were editing it. ", style="bold"
            )
            text.append("Nothing was saved. It now reads:\n")
            for label, value in (
                ("First name", cur.first_name),
                ("Last name", cur.last_name),
                ("Email", cur.email),
            ):
                text.append(f"  {label}: ", style="dim")
                text.append_text(literal(value))
                text.append("\n")
            text.append("Reload to edit the current version, or escape to cancel.")
            self.query_one("#edit-reload", Button).focus()
        self.query_one("#conflict-text", Static).update(text)

    @on(Button.Pressed, "#edit-reload")
    def _reload_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        cur = self._current
        if cur is None:
            return
        self.row = cur
        self.version = cur.version
        for field, value in zip(FIELDS, (cur.first_name, cur.last_name, cur.email), strict=True):
            self.query_one(f"#edit-{field}", Input).value = clean(value)
        self._current = None
        self.query_one("#conflict").display = False
        self.query_one("#edit-subtitle", Static).update(self._subtitle())
        self.clear_errors()
        self._focus_field("first_name")
