"""Editing one contact: validation and optimistic locking on `contact.version`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from session_tui.data.clock import utcnow
from session_tui.data.collation import derived_columns
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactRow, ContactsRepository
from session_tui.data.tables import contact_t
from session_tui.data.validation import ValidationError, normalize_email, normalize_name

EMAIL_TAKEN = "another contact already has this email"


@dataclass(frozen=True)
class ContactEdit:
    """The normalised values a save would write."""

    first_name: str
    last_name: str
    email: str


class VersionConflict(Exception):
    """Another user or process changed (or deleted) the contact since it was read.

    `current` is the contact as it is now, or None when it was deleted. Nothing
    was written.
    """

    def __init__(self, contact_id: int, current: ContactRow | None) -> None:
        if current is None:
            message = "another user deleted this contact meanwhile; nothing was saved"
        else:
            message = "another user changed this contact meanwhile; nothing was saved"
        super().__init__(message)
        self.contact_id = contact_id
        self.current = current
        self.message = message


def validate_edit(first_name: str, last_name: str, email: str) -> ContactEdit:
    """Normalise the three fields; raise ValidationError(field, message) on the first
    problem, checking them in the order the form shows them."""
    first = normalize_name(first_name, "first_name")
    last = normalize_name(last_name, "last_name")
    return ContactEdit(first, last, normalize_email(email))


def validation_errors(first_name: str, last_name: str, email: str) -> dict[str, str]:
    """Every field's problem at once ({} when all are fine), for a form."""
    errors: dict[str, str] = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        try:
            normalize_name(value, field)
        except ValidationError as exc:
            errors[field] = exc.message
    try:
        normalize_email(email)
    except ValidationError as exc:
        errors["email"] = exc.message
    return errors


def update_contact(
    db: Database,
    contact_id: int,
    expected_version: int,
    first_name: str,
    last_name: str,
    email: str,
) -> ContactRow:
    """Save an edit made on version `expected_version` of the contact.

    Raises ValidationError (field = "first_name" / "last_name" / "email") or
    VersionConflict; in both cases nothing is written. An edit that changes
    nothing writes nothing. Returns the contact as saved.
    """
    values = validate_edit(first_name, last_name, email)
    c = contact_t.c
    repo = ContactsRepository(db)
    try:
        with db.write() as conn:
            row = conn.execute(
                select(c.version, c.first_name, c.last_name, c.email).where(c.id == contact_id)
            ).first()
            if row is None or row.version != expected_version:
                raise _Conflict()
            if (row.first_name, row.last_name, row.email) == (
                values.first_name,
                values.last_name,
                values.email,
            ):
                return _require(repo, contact_id)
            other = conn.execute(
                select(c.id).where(c.email == values.email, c.id != contact_id)
            ).first()
            if other is not None:
                raise ValidationError("email", EMAIL_TAKEN)
            # The version check is in the UPDATE itself, so two sessions saving at
            # once cannot both win (no lost update on SQLite or PostgreSQL).
            result = conn.execute(
                update(contact_t)
                .where(c.id == contact_id, c.version == expected_version)
                .values(
                    first_name=values.first_name,
                    last_name=values.last_name,
                    email=values.email,
                    # the sort key and folded search text follow the names and email
                    **derived_columns(values.first_name, values.last_name, values.email),
                    version=c.version + 1,
                    updated_at=utcnow(),
                )
            )
            if result.rowcount != 1:
                raise _Conflict()
    except _Conflict:
        raise VersionConflict(contact_id, repo.get(contact_id)) from None
    except IntegrityError as exc:
        # The unique index caught an email taken between our check and the write.
        raise ValidationError("email", EMAIL_TAKEN) from exc
    return _require(repo, contact_id)


class _Conflict(Exception):
    pass


def _require(repo: ContactsRepository, contact_id: int) -> ContactRow:
    row = repo.get(contact_id)
    if row is None:
        raise VersionConflict(contact_id, None)
    return row
