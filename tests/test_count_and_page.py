"""`ContactsRepository.count_and_page`: the table's first read (count and page at once).

Whatever path it takes (SQLite: the count from the FTS index, then the page;
PostgreSQL: the page from the head of the order, or every match counted and sorted in
one statement; else the page alone), its rows are `page`'s rows and its count, when
it gives one, is `count`'s. Both databases, every order, with and without a filter.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from session_tui.data.db import Database
from session_tui.data.filters import parse
from session_tui.data.repositories import contacts as contacts_module
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository, SortKey
from tests.helpers import add_contacts, add_membership, add_product

FIRST = ["Ann", "Joanna", "Élise", "Bob", "Hannah", "Marie-Ann"]
EARLY = ["Adams", "Baker", "Brown"]  # before "Smith" in the name order
# 60 contacts with early last names, then 30 Smiths: the Smiths' matches all lie late
# in the name order (as a real surname's do), spread over the ids.
PEOPLE = [
    (
        f"p{i}.{FIRST[i % len(FIRST)][:2].lower()}@{'example.com' if i % 2 else 'gmail.com'}",
        FIRST[i % len(FIRST)],
        EARLY[i % len(EARLY)],
    )
    for i in range(60)
] + [(f"s{i}@orange.fr", FIRST[i % len(FIRST)], "Smith") for i in range(30)]
FUTURE = datetime(2099, 1, 1)
PAST = datetime(2001, 1, 1)
TERMS = ["smith", "smi", "ann", "a", "gmail", "zzz"]
WINDOWS = [(0, 7), (0, 100), (5, 3), (28, 5), (200, 10)]


@pytest.fixture(scope="module")
def repo(module_db: Database) -> ContactsRepository:
    """PEOPLE, every 3rd an active member and every 5th an expired one (written once:
    the tests only read)."""
    ids = add_contacts(module_db, PEOPLE)
    product = add_product(module_db, "Course")
    for n, cid in enumerate(ids):
        if n % 3 == 0:
            add_membership(module_db, cid, product, expires=FUTURE)
        elif n % 5 == 0:
            add_membership(module_db, cid, product, expires=PAST)
    return ContactsRepository(module_db)


def _ids(rows: list[contacts_module.ContactRow]) -> list[int]:
    return [r.id for r in rows]


@pytest.mark.parametrize("head_rows", [0, 10, 10**6])
@pytest.mark.parametrize("sort", list(SortKey))
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("flt", [None, "status:active"])
def test_rows_are_the_pages_rows_and_the_count_is_the_count(
    repo: ContactsRepository,
    monkeypatch: pytest.MonkeyPatch,
    head_rows: int,
    sort: SortKey,
    descending: bool,
    flt: str | None,
) -> None:
    """head_rows: no head (PostgreSQL counts every search in one pass), a head too short
    for some first pages (the Smiths lie beyond it), a head holding every contact."""
    monkeypatch.setattr(contacts_module, "PG_HEAD_ROWS", head_rows)
    for term in TERMS:
        q = ContactQuery(
            search=term, sort=sort, descending=descending, filter=parse(flt) if flt else None
        )
        count = repo.count(q)
        for offset, limit in WINDOWS:
            counted, rows = repo.count_and_page(q, offset, limit)
            assert _ids(rows) == _ids(repo.page(q, offset, limit)), (term, offset, limit)
            assert counted in (None, count), (term, offset, limit)
            assert rows == repo.page(q, offset, limit, total=count)  # products too


def test_postgresql_counts_in_the_same_pass_when_the_head_lacks_the_first_page(
    repo: ContactsRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    if repo.db.dialect != "postgresql":
        pytest.skip("PostgreSQL's plan")
    monkeypatch.setattr(contacts_module, "PG_HEAD_ROWS", 20)
    smith = ContactQuery(search="smith")
    # The Smiths sort after the first 20 contacts: every match read, counted, sorted.
    counted, rows = repo.count_and_page(smith, 0, 10)
    assert counted == 30 and _ids(rows) == _ids(repo.page(smith, 0, 10))
    # By email, descending, the Smiths (s…@orange.fr) come first: the head holds the
    # page, and the count is left to the caller.
    by_email = ContactQuery(search="smith", sort=SortKey.EMAIL, descending=True)
    assert repo.count_and_page(by_email, 0, 10)[0] is None
    # "a" is in nearly every contact: its first page lies in the head.
    assert repo.count_and_page(ContactQuery(search="a"), 0, 10)[0] is None
    # With a filter too; and the status order, which no index walks, always counts.
    active_a = ContactQuery(search="a", filter=parse("status:active"))
    assert repo.count_and_page(active_a, 0, 3)[0] is None
    assert repo.count_and_page(active_a, 0, 30)[0] == repo.count(active_a)
    by_status = ContactQuery(search="a", sort=SortKey.STATUS)
    assert repo.count_and_page(by_status, 0, 3)[0] == repo.count(by_status)
    # No search: the page alone, as before.
    assert repo.count_and_page(ContactQuery(), 0, 3)[0] is None


def test_sqlite_counts_from_the_index_when_it_answers_the_term(
    repo: ContactsRepository,
) -> None:
    if repo.db.dialect != "sqlite":
        pytest.skip("SQLite's plan")
    assert repo.count_and_page(ContactQuery(search="smith"), 0, 10)[0] == 30
    assert repo.count_and_page(ContactQuery(search="Élis"), 0, 10)[0] == 15
    # Too short for the index, a filter, no search: the count apart.
    assert repo.count_and_page(ContactQuery(search="a"), 0, 10)[0] is None
    with_filter = ContactQuery(search="smith", filter=parse("status:active"))
    assert repo.count_and_page(with_filter, 0, 10)[0] is None
    assert repo.count_and_page(ContactQuery(), 0, 10)[0] is None


def test_nothing_found_is_counted_as_nothing(repo: ContactsRepository) -> None:
    assert repo.count_and_page(ContactQuery(search="zzz"), 0, 100) == (0, [])
    counted, rows = repo.count_and_page(ContactQuery(search="smith"), 500, 100)
    assert rows == [] and counted in (None, 30)
    assert repo.count_and_page(ContactQuery(search="smith"), 0, 0) == (None, [])


@pytest.mark.parametrize("sort", list(SortKey))
def test_descending_is_the_exact_reverse_of_ascending(
    repo: ContactsRepository, sort: SortKey
) -> None:
    """On both databases alike: a window in the second half is read in the reverse
    order (End is as cheap as Home), which is right only if it is the exact reverse.
    PostgreSQL's status order used to put the expired before the active ones both ways."""
    for term in ("", "smith"):
        up = _ids(repo.page(ContactQuery(search=term, sort=sort), 0, 1000))
        down = _ids(repo.page(ContactQuery(search=term, sort=sort, descending=True), 0, 1000))
        assert down == up[::-1] and len(up) == repo.count(ContactQuery(search=term))
