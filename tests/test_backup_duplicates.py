"""Reading a deletion backup refuses a contact id, email, membership id or event id
that appears twice, at the line where it does (backup_format._Seen, which keeps what
it has seen in compact form: bits for ids, one buffer for emails)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_tui.data.deletion import BackupError, inspect_backup
from session_tui.data.deletion.backup_format import (
    _BITMAP_IDS,
    FORMAT,
    FORMAT_VERSION,
    _IdSet,
    _TextSet,
)

AT = "2026-01-05T14:23:01"


def contact(cid: int, email: str, memberships: list[dict[str, Any]] | None = None) -> Any:
    return {
        "contact": {
            "id": cid,
            "email": email,
            "first_name": "Ann",
            "last_name": "Smith",
            "created_at": AT,
            "updated_at": AT,
            "version": 1,
        },
        "memberships": memberships or [],
    }


def membership(mid: int, cid: int, event_ids: tuple[int, ...] = ()) -> dict[str, Any]:
    return {
        "id": mid,
        "contact_id": cid,
        "product_id": 1,
        "payment_type": "paid",
        "started_at": AT,
        "events": [
            {
                "id": eid,
                "membership_id": mid,
                "at": AT,
                "kind": "granted",
                "detail": "",
                "actor": "tester",
            }
            for eid in event_ids
        ],
    }


def write(path: Path, entries: list[Any]) -> Path:
    memberships = sum(len(e["memberships"]) for e in entries)
    events = sum(len(m["events"]) for e in entries for m in e["memberships"])
    header = {"format": FORMAT, "version": FORMAT_VERSION, "requested": len(entries)}
    end = {"end": {"contacts": len(entries), "memberships": memberships, "events": events}}
    lines = [header, *entries, end]
    path.write_text("".join(json.dumps(obj) + "\n" for obj in lines), encoding="utf-8")
    return path


BIG = _BITMAP_IDS + 12_345  # beyond the bitmap: the ids kept in a set


def test_distinct_ids_and_emails_read_back(tmp_path: Path) -> None:
    entries = [
        contact(1, "ann@example.com", [membership(1, 1, (1, 2)), membership(2, 1, (3,))]),
        contact(9, "Bén@example.com", [membership(BIG, 9, (BIG,))]),
        contact(BIG, "ann@example.org", [membership(0, BIG, (0,))]),
        contact(0, "x\u00e9@example.com"),
    ]
    info = inspect_backup(write(tmp_path / "ok.jsonl", entries))
    assert (info.contacts, info.memberships, info.events) == (4, 4, 5)
    assert info.emails == [
        "ann@example.com",
        "bén@example.com",
        "ann@example.org",
        "x\u00e9@example.com",
    ]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [contact(7, "a@example.com"), contact(7, "b@example.com")],
            "contact id 7 appears twice",
        ),
        (
            [contact(BIG, "a@example.com"), contact(BIG, "b@example.com")],
            f"contact id {BIG} appears twice",
        ),
        (
            # the same email once normalised (trimmed, lower-cased)
            [contact(1, "Ann@Example.com"), contact(2, " ann@example.com")],
            "email ann@example.com appears twice",
        ),
        (
            [
                contact(1, "a@example.com", [membership(5, 1)]),
                contact(2, "b@example.com", [membership(5, 2)]),
            ],
            "membership id 5 appears twice",
        ),
        (
            [contact(1, "a@example.com", [membership(5, 1), membership(5, 1)])],
            "membership id 5 appears twice",
        ),
        (
            [
                contact(1, "a@example.com", [membership(5, 1, (8,))]),
                contact(2, "b@example.com", [membership(6, 2, (9, 8))]),
            ],
            "event id 8 appears twice",
        ),
        (
            [contact(1, "a@example.com", [membership(5, 1, (-3, -3))])],
            "event id -3 appears twice",
        ),
    ],
)
def test_a_value_that_appears_twice_is_refused(
    tmp_path: Path, entries: list[Any], message: str
) -> None:
    path = write(tmp_path / "dup.jsonl", entries)
    with pytest.raises(BackupError, match=f"is damaged: {message}$"):
        inspect_backup(path)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.integers(min_value=-5, max_value=4_000)
        | st.integers(min_value=_BITMAP_IDS - 3, max_value=_BITMAP_IDS + 3)
        | st.integers(min_value=-(2**70), max_value=2**70),
        max_size=300,
    )
)
def test_id_set_answers_as_a_set(values: list[int]) -> None:
    ids, seen = _IdSet(), set()
    for value in values:
        assert ids.add(value) == (value not in seen)
        seen.add(value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=6) | st.sampled_from(["", "a", "\ud800", "é"]), max_size=1500))
def test_text_set_answers_as_a_set(values: list[str]) -> None:
    """Also across the table's growth (1,024 slots at first) and for texts no UTF-8
    encoder takes as they are (a lone surrogate, which JSON can carry)."""
    texts, seen = _TextSet(), set()
    for value in values:
        assert texts.add(value) == (value not in seen)
        seen.add(value)


def test_text_set_tells_equal_hashes_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts with equal hashes (here: every text, with `hash` replaced) are told
    apart by their bytes, across the table's growth."""
    from session_tui.data.deletion import backup_format

    monkeypatch.setattr(backup_format, "hash", lambda _value: 7, raising=False)
    texts = backup_format._TextSet()
    words = [f"user{i}@example.com" for i in range(800)]
    assert all(texts.add(w) for w in words)
    assert not any(texts.add(w) for w in words)
    assert not texts.add("user799@example.com") and texts.add("user800@example.com")
    assert set(texts.hashes) == {7}
