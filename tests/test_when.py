"""Relative and absolute moments as the UI writes them (session_tui/ui/moments.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from session_tui.ui.moments import day, relative

NOW = datetime(2026, 3, 10, 12, 0, 0)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (None, "never"),
        (NOW, "just now"),
        (NOW + timedelta(seconds=30), "in a moment"),
        (NOW - timedelta(minutes=5), "5 minutes ago"),
        (NOW + timedelta(minutes=1), "in 1 minute"),
        (NOW + timedelta(hours=3), "in 3 hours"),
        (NOW - timedelta(hours=23), "23 hours ago"),
        (datetime(2026, 3, 11, 18, 0), "tomorrow"),
        (datetime(2026, 3, 9, 0, 0), "yesterday"),
        (datetime(2026, 3, 15), "in 5 days"),  # a date: counted in calendar days
        (datetime(2026, 2, 1), "37 days ago"),
        (datetime(2025, 12, 10), "3 months ago"),
        (datetime(2026, 9, 1), "in 6 months"),
        (datetime(2027, 3, 10), "in 1 year"),
        (datetime(2023, 1, 1), "3 years ago"),
    ],
)
def test_relative(moment: datetime | None, text: str) -> None:
    assert relative(moment, NOW) == text


def test_day() -> None:
    assert day(datetime(2026, 12, 31, 0, 0)) == "2026-12-31"
    assert day(None) == "never"
    assert day(None, never="") == ""
