"""The import's per-load caches give exactly what the uncached functions give:
names read once per distinct cell (row_parser.RowParser), name_key and the
search text once per (first, last) pair (collation.NamePairs)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from session_tui.data.clock import MAX_YEAR, MIN_YEAR
from session_tui.data.collation import NamePairs, fold, name_key, search_text
from session_tui.data.csvio import import_csv, row_parser
from session_tui.data.csvio.reader import ColumnMap
from session_tui.data.csvio.row_parser import RowParser, parse_created
from session_tui.data.db import open_database
from session_tui.data.validation import (
    ValidationError,
    clean_email,
    email_problem,
    normalize_name,
)
from tests.test_accents import PEOPLE

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


def reference_email(raw: str) -> str:
    """The parser's email, or the reason it is refused, without its fast path."""
    email = raw.strip().lower()
    if not (email.isascii() and email.isprintable()):
        email = clean_email(email)
    return email_problem(email) or email


EMAILS = [
    "a@b.co",
    "A@B.CO",
    " a@b.co ",
    "a@b.c",
    "a@-b.com",
    "a@b-.com",
    "a..b@c.com",
    ".a@b.com",
    "a.@b.com",
    "a@b..com",
    "a@b.com.",
    "a@@b.com",
    "a@b@c.com",
    "a@b.c0m",
    "@b.com",
    "a@",
    "",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "a@b." + "c" * 63,
    "a@b." + "c" * 64,
    "x" * 310 + "@example.com",
    "josé@example.com",
    "a@ｅxample.org",
    "ｊ@example.org",
    "a\u200e@example.com",
    "'=a@example.com",
    "o'brien+tag@example.co.uk",
]


def test_the_email_fast_path_refuses_and_accepts_what_email_problem_does() -> None:
    rnd = random.Random(14)
    alphabet = "ab.-@_z09A!é\t"
    corpus = list(EMAILS)
    for _ in range(20_000):
        local = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 8)))
        domain = "".join(rnd.choice("ab.-09z") for _ in range(rnd.randint(0, 9)))
        corpus.append(local.replace("@", "") + "@" + domain if rnd.random() < 0.8 else local)
    parser = RowParser(ColumnMap(email=0))
    for _ in range(2):  # the second time, the domains are known
        for raw in corpus:
            got = parser.parse([raw])
            assert (got if isinstance(got, str) else got[0]) == reference_email(
                raw[1:] if raw[:2] == "'=" else raw
            ), raw


@pytest.mark.parametrize(
    "cell",
    [
        "2023-04-12 09:15:32.000000",
        "2023-02-30 09:15:32.000000",  # not a day
        "0999-04-12 09:15:32.000000",  # outside the supported dates
        "２０２３-04-12 09:15:32.000000",  # fullwidth digits
        " 2023-04-12 09:15:32.000000",
        "2023-04-12 09:15:32.000000 ",
        "2023-04-12T09:15:32Z",
        "not a date",
    ],
)
def test_created_at_in_the_stored_form_is_read_as_parse_created_reads_it(cell: str) -> None:
    parser = RowParser(ColumnMap(email=0, created_at=1))
    got = parser.parse(["a@example.com", cell])
    created = parse_created(cell)
    if created is not None and not MIN_YEAR <= int(created[:4]) <= MAX_YEAR:
        assert isinstance(got, str) and "outside the supported dates" in got
    else:
        assert got == ("a@example.com", "", "", created)
        assert parser.dates_defaulted == (created is None)


def test_imported_name_key_is_a_blob_equal_to_name_key(tmp_path: Path) -> None:
    """The import binds each pair's key as a bytearray (NamePairs): what SQLite
    stores is the same BLOB that `name_key` gives, and the search text is
    `search_text`'s, for ASCII and other emails alike."""
    # an upper-case and a non-ASCII email, a pair met before, empty names
    rows = [*PEOPLE, ("B@Example.com", "María", "López"), ("josé@ｅxample.org", "", "Straße")]
    rows.append(("c@example.com", "", ""))
    source = tmp_path / "people.csv"
    source.write_text(
        "email,first_name,last_name\n" + "".join(f"{e},{f},{la}\n" for e, f, la in rows),
        encoding="utf-8",
    )
    db = open_database(f"sqlite:///{tmp_path / 'test.db'}")
    try:
        assert import_csv(db, source).added == len(rows)
    finally:
        db.dispose()
    conn = sqlite3.connect(tmp_path / "test.db")
    try:
        stored = conn.execute(
            "SELECT email, first_name, last_name, typeof(name_key), name_key, search_text "
            "FROM contact ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    assert len(stored) == len(rows)
    for email, first, last, kind, key, text in stored:
        assert kind == "blob"
        assert key == name_key(first, last)
        assert text == search_text(first, last, email)
