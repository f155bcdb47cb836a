"""Time helpers. Every stored datetime is naive UTC, second precision."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, date, datetime

# "Never expires" sentinel used in Contact.active_until.
FAR_FUTURE = datetime(9999, 12, 31, 0, 0, 0)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def parse_date(text: str) -> date:
    """Parse `YYYY-MM-DD`; raises ValueError with a readable message."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-12-31") from None


def date_to_dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def actor() -> str:
    """The OS user name, recorded as the actor of history events."""
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER", "unknown")
