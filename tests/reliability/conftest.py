"""Reliability suite plumbing: pin the time zone (async tests run via tests/conftest.py).

The same approach as tests/ui/conftest.py (no asyncio plugin needed). Helpers
shared by the suite live in tests/reliability/helpers.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
