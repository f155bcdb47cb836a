"""The search fast paths (data/search.py) give the same answers as the plain queries.

- count of a one-word search read from the FTS index alone == the contacts matched,
  also after updates and deletes (the index is kept by triggers);
- the first pages read by walking the sort index (a common term) == the sorted read.
Both databases: PostgreSQL takes the plain paths, which must agree just the same.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from session_tui.data.collation import derived_columns
from session_tui.data.db import Database
from session_tui.data.repositories import contacts as contacts_module
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository, SortKey
from session_tui.data.tables import contact_t
from tests.helpers import add_contacts

FIRST = ["Ann", "Joanna", "Élise", "Seán", "李", "Marie-Ann", "Bob", "Hannah"]
LAST = ["Smith", "O'Brien", "Dupont", "王", "Annett", "Nowak"]
DOMAINS = ["gmail.com", "example.com", "orange.fr"]
PEOPLE = [
    (
        f"p{i}.{FIRST[i % len(FIRST)][:2].lower()}@{DOMAINS[i % len(DOMAINS)]}",
        FIRST[i % len(FIRST)],
        LAST[(i * 7) % len(LAST)],
    )
    for i in range(60)
]
TERMS = ["ann", "ANN", "gmail", "smith", "élise", "ÉLI", "o'brien", "p1", "zzz", "李王x"]


@pytest.fixture
def repo(module_people_db: Database) -> ContactsRepository:
    return ContactsRepository(module_people_db)  # PEOPLE, written once: its tests only read


@pytest.fixture
def fresh_repo(db: Database) -> ContactsRepository:
    add_contacts(db, PEOPLE)
    return ContactsRepository(db)


@pytest.mark.parametrize("term", TERMS)
def test_count_of_a_search_equals_the_contacts_it_matches(
    repo: ContactsRepository, term: str
) -> None:
    q = ContactQuery(search=term)
    assert repo.count(q) == len(repo.ids(q)) == len(repo.page(q, 0, 1000))


def test_count_follows_updates_and_deletes(fresh_repo: ContactsRepository, db: Database) -> None:
    repo = fresh_repo
    q = ContactQuery(search="smith")
    before = repo.count(q)
    ids = repo.ids(q)
    first = repo.get(ids[0])
    assert first is not None
    renamed = derived_columns(first.first_name, "Jones", first.email)  # as an edit writes
    with db.engine.begin() as conn:
        conn.execute(
            update(contact_t).where(contact_t.c.id == ids[0]).values(last_name="Jones", **renamed)
        )
        conn.execute(delete(contact_t).where(contact_t.c.id == ids[1]))
    assert repo.count(q) == before - 2 == len(repo.ids(q))
    assert repo.count(ContactQuery(search="jones")) == 1


@pytest.mark.parametrize("sort", list(SortKey))
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("term", ["ann", "gmail", "a"])
def test_walking_the_sort_index_reads_the_same_pages(
    repo: ContactsRepository,
    monkeypatch: pytest.MonkeyPatch,
    term: str,
    sort: SortKey,
    descending: bool,
) -> None:
    q = ContactQuery(search=term, sort=sort, descending=descending)
    count = repo.count(q)
    monkeypatch.setattr(contacts_module, "WALK_MIN_MATCHES", 10**9)  # never walk
    sorted_read = [r.id for r in repo.page(q, 0, 1000)]
    windows = [[r.id for r in repo.page(q, off, 7, total=count)] for off in range(0, count, 7)]
    monkeypatch.setattr(contacts_module, "WALK_MIN_MATCHES", 0)  # always walk
    assert [r.id for r in repo.page(q, 0, 1000)] == sorted_read
    assert [r.id for r in repo.page(q, 0, 1000, total=count)] == sorted_read
    for off, window in zip(range(0, count, 7), windows, strict=True):
        assert [r.id for r in repo.page(q, off, 7, total=count)] == window
        assert window == sorted_read[off : off + 7]


# (old term, new term): typing on, typing in the middle, a paste around the old term,
# accents and other scripts, a second word.
REFINEMENTS = [
    ("ann", "anne"),
    ("an", "ann"),
    ("a", "ann"),
    ("ann", "hann"),
    ("ann", "ann smith"),
    ("gmai", "gmail"),
    ("éli", "élise"),
    ("ÉLI", "élis"),
    ("o'b", "o'brien"),
    ("p1.", "p1.jo"),
    ("mar", "marie-ann"),
    ("smi", "smith "),
    ("é", "él"),  # short terms fold accents and case too: "é" finds "É" and "e"
    ("él", "éli"),
    ("e", "Éli"),
]


@pytest.mark.parametrize(("old", "new"), REFINEMENTS)
@pytest.mark.parametrize("sort", [SortKey.NAME, SortKey.JOINED])
@pytest.mark.parametrize("window", [4, 100])
def test_refining_the_first_rows_of_a_search_gives_the_first_rows_of_the_narrower_one(
    repo: ContactsRepository, old: str, new: str, sort: SortKey, window: int
) -> None:
    old_q = ContactQuery(search=old, sort=sort)
    new_q = ContactQuery(search=new, sort=sort)
    assert ContactsRepository.refines(old_q, new_q)
    shown = repo.page(old_q, 0, window)  # what the table has of the old search
    refined = repo.refine(new_q, shown)
    truth = [r.id for r in repo.page(new_q, 0, 1000)]
    assert truth, "the pair must match someone, or the test proves nothing"
    # exactly the first rows of the new search, as many as the old rows hold
    assert [r.id for r in refined] == truth[: len(refined)]
    old_ids = {r.id for r in shown}
    assert len(refined) == sum(1 for i in truth if i in old_ids)
    if len(shown) == repo.count(old_q):  # the old rows were all there was
        assert len(refined) == len(truth)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("ann", "ann"),  # nothing narrower
        ("anne", "ann"),  # wider, not narrower
        ("ann", "nna"),  # not inside
        ("", "ann"),
    ],
)
def test_only_a_narrower_search_counts_as_a_refinement(old: str, new: str) -> None:
    assert not ContactsRepository.refines(ContactQuery(search=old), ContactQuery(search=new))


def test_a_refinement_keeps_the_filter_and_the_order() -> None:
    base = ContactQuery(search="ann")
    assert ContactsRepository.refines(base, ContactQuery(search="anne"))
    assert not ContactsRepository.refines(base, ContactQuery(search="anne", sort=SortKey.EMAIL))
    assert not ContactsRepository.refines(base, ContactQuery(search="anne", descending=True))
    assert not ContactsRepository.refines(base, ContactQuery(search="anne", filter=object()))  # type: ignore[arg-type]
