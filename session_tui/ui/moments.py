"""How the UI writes moments: relative ("in 5 days", "3 months ago"), dates, local times.

No Textual here, so it is easy to test. Stored datetimes are naive UTC.

- Membership dates (started, expires) were entered as dates and are shown as the
  stored calendar date (UTC), so that what was typed is what is shown.
- History times are moments: shown in local time (`local_time`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from session_tui.config import DEFAULT_DATE_FORMAT
from session_tui.data.clock import show_moment, to_local, utcnow

Clock = Callable[[], datetime]

# `date_format` of config.toml (SessionApp sets it); dates typed in stay YYYY-MM-DD.
_date_format = DEFAULT_DATE_FORMAT


def set_date_format(fmt: str | None) -> None:
    """How dates are shown from now on (None: the default, YYYY-MM-DD)."""
    global _date_format
    _date_format = fmt or DEFAULT_DATE_FORMAT


def _show(
    moment: datetime | None, *, local: bool = False, minutes: bool = False, never: str = "never"
) -> str:
    """`show_moment` (total, YYYY-MM-DD), or the configured `date_format` when there
    is one; a moment the format cannot write falls back to `show_moment`."""
    if moment is None or _date_format == DEFAULT_DATE_FORMAT:
        return show_moment(moment, local=local, minutes=minutes, never=never)
    try:
        shown = to_local(moment) if local else moment
        text = shown.strftime(_date_format)
        return f"{text} {shown.hour:02d}:{shown.minute:02d}" if minutes else text
    except Exception:  # noqa: BLE001 - a display must never crash the app
        return show_moment(moment, local=local, minutes=minutes, never=never)


def clock_of(app: Any) -> Clock:
    """The app's clock (tests freeze it by setting `app.clock`), else the real one."""
    clock = getattr(app, "clock", None)
    return clock if callable(clock) else utcnow


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def relative(moment: datetime | None, now: datetime, *, never: str = "never") -> str:
    """`moment` relative to `now`: "in 5 days", "3 months ago", "today", "never"."""
    if moment is None:
        return never
    seconds = (moment - now).total_seconds()
    future = seconds > 0
    span = abs(seconds)
    if span < 60:
        return "just now" if not future else "in a moment"
    if span < 3600:
        text = _plural(int(span // 60), "minute")
    elif span < 86400:
        text = _plural(int(span // 3600), "hour")
    else:
        days = abs((moment.date() - now.date()).days)
        if days == 1:
            return "tomorrow" if future else "yesterday"
        if days < 45:
            text = _plural(days, "day")
        elif days < 365:
            text = _plural(max(2, round(days / 30.44)), "month")
        else:
            text = _plural(max(1, round(days / 365.25)), "year")
    return f"in {text}" if future else f"{text} ago"


def day(moment: datetime | None, *, never: str = "never") -> str:
    """The stored calendar date of a membership date (`date_format`, default
    YYYY-MM-DD). Never raises."""
    return _show(moment, never=never)


def local_day(moment: datetime) -> str:
    """The local calendar date of a stored (naive UTC) moment. Never raises: a moment
    the local zone cannot represent (year 1 west of UTC) is shown as stored."""
    return _show(moment, local=True)


def local_time(moment: datetime) -> str:
    """A stored (naive UTC) moment in local time, to the minute. Never raises."""
    return _show(moment, local=True, minutes=True)
