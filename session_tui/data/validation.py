"""Normalisation and validation of contact fields: emails, names, lengths."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 200
MAX_EMAIL = 320

# Common-case fast path: plain ASCII addresses. Anything else goes through
# email-validator (which costs ~20 µs a call), without DNS lookups.
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
_FAST_EMAIL = re.compile(f"^{_LOCAL}@{_DOMAIN}$")
# The two halves (`fullmatch`): a bulk reader checks each domain once (row_parser.py).
# No character of the local part is "@", so "local@domain" matches _FAST_EMAIL
# exactly when the part before the first "@" matches one and the rest the other.
FAST_LOCAL = re.compile(_LOCAL)
FAST_DOMAIN = re.compile(_DOMAIN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE_LIKE = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85]")


class ValidationError(ValueError):
    """A value a user typed or a file held is not acceptable. `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def strip_controls(text: str) -> str:
    """Remove control characters (C0, C1, bidi overrides) -- terminal escapes included.

    Tabs and line breaks become a space first, so that a name broken over two
    lines (a multi-line CSV cell, a paste) stays two words."""
    if text.isprintable():  # the common case: nothing to remove
        return text
    return _CONTROL.sub("", _SPACE_LIKE.sub(" ", text))


def normalize_name(value: str | None, field: str = "name") -> str:
    text = strip_controls(unicodedata.normalize("NFC", value or "")).strip()
    text = " ".join(text.split())
    if len(text) > MAX_NAME:
        raise ValidationError(
            field, f"{field.replace('_', ' ')} is longer than {MAX_NAME} characters"
        )
    return text


def clean_email(value: str | None) -> str:
    """The one normalisation of an email address (every entry point uses it):
    control characters removed, trimmed, lower-cased, Unicode NFC (`josé` typed
    with a combining accent is the same address as with `é`), and the domain
    NFKC-folded (`ｅｘａｍｐｌｅ．ｏｒｇ` is `example.org`, as IDNA maps it).
    The local part is not folded: `email_problem` refuses compatibility
    characters there (docs/decisions.md). Does not validate."""
    email = strip_controls(value or "").strip().lower()
    if email.isascii():
        return email
    email = unicodedata.normalize("NFC", email)
    local, at, domain = email.rpartition("@")
    if at:
        email = local + at + unicodedata.normalize("NFKC", domain).lower()
    return email


def _compat_problem(email: str) -> str | None:
    """A reason when the local part holds fullwidth or other compatibility characters."""
    local = email.rpartition("@")[0]
    folded = unicodedata.normalize("NFKC", local).lower()
    if folded == local:
        return None
    domain = email.rpartition("@")[2]
    return (
        "invalid email: the part before @ has fullwidth or compatibility characters "
        f"(did you mean {folded}@{domain}?)"
    )


def email_problem(email: str) -> str | None:
    """None if `email` (already normalised by `clean_email`) is valid, else a short reason."""
    if not email:
        return "email is empty"
    if len(email) > MAX_EMAIL:
        return f"email is longer than {MAX_EMAIL} characters"
    if _FAST_EMAIL.match(email):
        return None
    if not email.isascii():
        problem = _compat_problem(email)
        if problem is not None:
            return problem
    # Imported here: most addresses take the fast path, and the import costs ~50 ms
    # of every start (docs/performance.md).
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"invalid email: {exc}"
    return None


def normalize_email(value: str | None) -> str:
    """`clean_email`; raise ValidationError('email', …) when invalid."""
    email = clean_email(value)
    problem = email_problem(email)
    if problem:
        raise ValidationError("email", problem)
    return email
