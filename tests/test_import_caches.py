"""The import's per-load caches give exactly what the uncached functions give:
names read once per distinct cell (row_parser.RowParser), name_key and the
search text once per (first, last) pair (collation.NamePairs)."""

from __future__ import annotations

import pytest

from session_tui.data.collation import NamePairs, fold, name_key, search_text
from session_tui.data.csvio import row_parser
from session_tui.data.csvio.reader import ColumnMap
from session_tui.data.csvio.row_parser import RowParser
from session_tui.data.validation import ValidationError, normalize_name

NAMES = [
    "Ana",
    "  Ana  ",
    "Ana  María",
    "María",
    "Mari\u0301a",  # combining accent: NFC makes it "María"
    "Zoë\u202e",  # a bidi override is removed
    "Line\nbreak",
    "'=Sum",  # an escaped formula cell loses its apostrophe
    "x" * 201,  # too long: refused, every time it is read
    "",
    "Ødegaard",
    "ß",
]


def expected_name(raw: str, label: str) -> str:
    if raw[:1] == "'" and raw[1:2] in "=+-@\t\r'" and len(raw) > 1:
        raw = raw[1:]
    return normalize_name(raw, label)


@pytest.mark.parametrize("kept", [3, 1 << 16])
def test_names_read_through_the_cache_are_the_names_normalized(
    kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(row_parser, "_NAMES_KEPT", kept)  # 3: the cache is cleared often
    parser = RowParser(ColumnMap(email=0, first_name=1, last_name=2))
    for _ in range(3):  # every name again, now known (or cleared away)
        for first in NAMES:
            for last in NAMES[::-1]:
                got = parser.parse(["a@example.com", first, last])
                try:
                    want: object = (
                        "a@example.com",
                        expected_name(first, "first_name"),
                        expected_name(last, "last_name"),
                        None,
                    )
                except ValidationError as exc:
                    want = exc.message
                assert got == want, (first, last)


def test_a_full_name_column_is_cached_apart_from_the_first_and_last_names() -> None:
    parser = RowParser(ColumnMap(email=0, full_name=1))
    assert parser.parse(["a@example.com", "Ana  María López"]) == (
        "a@example.com",
        "Ana",
        "María López",
        None,
    )
    assert parser.parse(["b@example.com", "x" * 201]) == "name is longer than 200 characters"
    assert parser.parse(["c@example.com", "x" * 201]) == "name is longer than 200 characters"


@pytest.mark.parametrize("limit", [2, 1 << 16])
def test_name_pairs_give_name_key_and_search_text(limit: int) -> None:
    pairs = NamePairs(limit)
    names = ["Ana", "María", "Ødegaard", "ǰohn", "O’Brien", "", "Straße", "ÆSIR"]
    emails = ["a@example.com", "josé@example.com", "X@Ｅxample.org"]
    for _ in range(2):
        for first in names:
            for last in names:
                for email in emails:
                    key, prefix = pairs.known.get((first, last)) or pairs.add(first, last)
                    assert key == name_key(first, last)
                    assert prefix + fold(email) == search_text(first, last, email)
    assert len(pairs.known) <= max(limit, 1)
