"""ContactsRepository on SQLite and PostgreSQL: paging, sorting, search, status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository, SortKey
from session_tui.data.tables import Status
from tests.helpers import add_contacts, add_membership, add_product

PEOPLE = [
    ("ann.smith@gmail.com", "Ann", "Smith"),
    ("joanna.b@outlook.com", "Joanna", "Brown"),
    ("elise@orange.fr", "Élise", "Dupont"),
    ("obrien@example.com", "Seán", "O'Brien"),
    ("percent@example.com", "100%", "Sure"),
    ("under_score@example.com", "Under", "Score"),
    ("li@qq.com", "李", "王"),
    ("bob@gmail.com", "Bob", "Annett"),
]


@pytest.fixture
def repo(module_people_db: Database) -> ContactsRepository:
    return ContactsRepository(module_people_db)  # PEOPLE, written once: its tests only read


def emails(rows: list) -> list[str]:
    return [r.email for r in rows]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ann", {"ann.smith@gmail.com", "joanna.b@outlook.com", "bob@gmail.com"}),
        ("ANN", {"ann.smith@gmail.com", "joanna.b@outlook.com", "bob@gmail.com"}),
        ("ann smi", {"ann.smith@gmail.com"}),  # spans "first last"
        ("n s", {"ann.smith@gmail.com"}),  # short words spanning first and last
        ("gmail.com", {"ann.smith@gmail.com", "bob@gmail.com"}),
        ("élise", {"elise@orange.fr"}),
        ("ÉLISE DUP", {"elise@orange.fr"}),
        ("o'bri", {"obrien@example.com"}),
        ("王", {"li@qq.com"}),
        ("%", {"percent@example.com"}),  # LIKE wildcards are literal
        ("n_s", set()),  # would match "Ann Smith" if _ were a wildcard
        ("r_s", {"under_score@example.com"}),
        ("under_", {"under_score@example.com"}),
        ("zzz", set()),
        ("  ", set(e for e, _, _ in PEOPLE)),  # blank = no condition
        ("\x1b[31mann", set()),  # control characters are dropped, the rest is literal text
    ],
)
def test_search_is_case_insensitive_substring_of_names_and_email(
    repo: ContactsRepository, term: str, expected: set[str]
) -> None:
    q = ContactQuery(search=term)
    assert set(emails(repo.page(q, 0, 100))) == expected
    assert repo.count(q) == len(expected)


def test_search_text_with_sql_stays_text(repo: ContactsRepository) -> None:
    q = ContactQuery(search="'; DROP TABLE contact; --")
    assert repo.count(q) == 0
    assert repo.total() == len(PEOPLE)


@pytest.mark.parametrize("sort", list(SortKey))
@pytest.mark.parametrize("descending", [False, True])
def test_paging_windows_agree_with_one_full_read(
    repo: ContactsRepository, sort: SortKey, descending: bool
) -> None:
    q = ContactQuery(sort=sort, descending=descending)
    total = repo.count(q)
    full = emails(repo.page(q, 0, 1000))
    assert len(full) == total == len(PEOPLE)
    for offset in range(total):
        for limit in (1, 3):
            # with total given, windows past the middle are read in reverse order
            window = emails(repo.page(q, offset, limit, total=total))
            assert window == full[offset : offset + limit]
    assert repo.page(q, total, 5, total=total) == []


def test_sort_orders(repo: ContactsRepository) -> None:
    by_email = emails(repo.page(ContactQuery(sort=SortKey.EMAIL), 0, 100))
    assert by_email == sorted(by_email)
    by_email_desc = emails(repo.page(ContactQuery(sort=SortKey.EMAIL, descending=True), 0, 100))
    assert by_email_desc == list(reversed(by_email))
    names = repo.page(ContactQuery(sort=SortKey.NAME), 0, 100)
    assert names[0].last_name == "Annett"


def test_status_and_products(db: Database) -> None:
    ids = add_contacts(
        db,
        [
            ("a@x.io", "A", "Active"),
            ("e@x.io", "E", "Expired"),
            ("n@x.io", "N", "None"),
            ("c@x.io", "C", "Cancelled"),
        ],
    )
    coaching = add_product(db, "1:1 Coaching")
    course = add_product(db, "Course")
    now = utcnow()
    add_membership(db, ids[0], coaching, expires=None)
    add_membership(db, ids[0], course, expires=now - timedelta(days=1))
    add_membership(db, ids[1], course, expires=now - timedelta(seconds=5))
    add_membership(db, ids[3], coaching, cancelled=now - timedelta(days=2))
    repo = ContactsRepository(db)
    rows = {r.email: r for r in repo.page(ContactQuery(sort=SortKey.STATUS), 0, 10)}
    assert rows["a@x.io"].status is Status.ACTIVE
    assert rows["e@x.io"].status is Status.EXPIRED
    assert rows["c@x.io"].status is Status.EXPIRED
    assert rows["n@x.io"].status is Status.NONE
    assert rows["a@x.io"].products == (("1:1 Coaching", True), ("Course", False))
    order = emails(repo.page(ContactQuery(sort=SortKey.STATUS), 0, 10))
    assert order[0] == "a@x.io" and order[-1] == "n@x.io"
    assert set(order[1:3]) == {"e@x.io", "c@x.io"}


def test_ids_get_and_suggestions(repo: ContactsRepository) -> None:
    ids = repo.ids(ContactQuery(search="gmail"))
    assert len(ids) == 2
    row = repo.get(ids[0])
    assert row is not None and row.email.endswith("@gmail.com")
    assert repo.get(10_000_000) is None
    found = repo.get_by_email("  ANN.SMITH@gmail.com ")
    assert found is not None and found.first_name == "Ann"
    assert repo.suggest_emails("an") == ["ann.smith@gmail.com"]
    assert repo.suggest_emails("") == []
