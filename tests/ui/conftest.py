"""UI test plumbing: pin the time zone (async Pilot tests run via tests/conftest.py).

Helpers to seed data and drive the Contacts screen: tests/ui/contacts_helpers.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dates are shown in local time; pin it so tests and snapshots are stable."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
