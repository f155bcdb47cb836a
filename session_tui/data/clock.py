"""Time helpers. Every stored datetime is naive UTC, second precision."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

# "Never expires" sentinel used in Contact.active_until.
FAR_FUTURE = datetime(9999, 12, 31, 0, 0, 0)

# The dates a user may enter or import (joined, started, expires). Outside this range
# a date is almost always a placeholder (.NET's DateTime.MinValue 0001-01-01, 9999-12-31
# for "never"), and near year 1 or 9999 converting to local time overflows. 9999 stays
# free for the internal FAR_FUTURE sentinel.
MIN_YEAR = 1900
MAX_YEAR = 9998
SUPPORTED_DATES = f"{MIN_YEAR}-01-01 to {MAX_YEAR}-12-31"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def date_problem(value: date) -> str | None:
    """Why `value` (a date or datetime) is not a supported date, or None if it is."""
    if MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    return f"{iso_day(value)} is outside the supported dates ({SUPPORTED_DATES})"


def parse_date(text: str) -> date:
    """Parse `YYYY-MM-DD` in the supported range; raises ValueError with a readable
    message."""
    text = text.strip()
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-12-31") from None
    problem = date_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def iso_day(value: date) -> str:
    """YYYY-MM-DD with a four-digit year whatever the year (strftime writes year 1 as
    "1" on glibc)."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def to_local(moment: datetime) -> datetime:
    """A stored (naive UTC) moment as naive local time. Total: a moment the local
    zone cannot represent (year 1 west of UTC, 9999-12-31 east of it) stays UTC."""
    try:
        return moment.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)
    except (OverflowError, ValueError, OSError):
        return moment


def show_moment(
    moment: datetime | date | None,
    *,
    local: bool = False,
    minutes: bool = False,
    never: str = "never",
) -> str:
    """How every date is written for people (table, detail, memberships, CLI): total,
    it never raises whatever is stored. `local` converts a naive UTC moment to local
    time (see `to_local`); `minutes` adds HH:MM."""
    if moment is None:
        return never
    try:
        if isinstance(moment, datetime):
            if local:
                moment = to_local(moment)
            if minutes:
                return f"{iso_day(moment)} {moment.hour:02d}:{moment.minute:02d}"
        return iso_day(moment)
    except Exception:  # noqa: BLE001 - a display must never crash the app
        return str(moment)


def date_to_dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def actor() -> str:
    """The OS user name, recorded as the actor of history events."""
    import getpass  # not needed to start the app (~1.5 ms)

    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER", "unknown")
