"""Search that ignores accents and case, and the alphabetical order of names by the
Unicode Collation Algorithm -- on SQLite and PostgreSQL, through the repository the
Contacts screen and the CLI use; plus `session-tui check` for the derived columns."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from session_tui.cli import main
from session_tui.data.check import check_statuses, repair_statuses
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository, SortKey
from session_tui.data.tables import contact_t
from tests.helpers import add_contacts

PEOPLE = [
    ("maria.lopez@example.com", "María", "López"),
    ("maria.plain@example.com", "maria", "Plain"),
    ("jose@example.com", "José", "Álvarez"),
    ("hans@example.com", "Hans", "Müller"),
    ("mesut@example.com", "Mesut", "Özil"),
    ("lech@example.com", "Lech", "Wałęsa"),
    ("ann@example.com", "Ann", "Smith"),
]


def emails(repo: ContactsRepository, term: str) -> list[str]:
    rows = repo.page(ContactQuery(search=term, sort=SortKey.EMAIL), 0, 100)
    assert repo.count(ContactQuery(search=term)) == len(rows)
    return [r.email for r in rows]


@pytest.fixture
def repo(module_people_db: Database) -> ContactsRepository:
    return ContactsRepository(module_people_db)  # PEOPLE, written once: its tests only read


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("maria", ["maria.lopez@example.com", "maria.plain@example.com"]),
        ("María", ["maria.lopez@example.com", "maria.plain@example.com"]),  # and back
        ("MARÍA LÓPEZ", ["maria.lopez@example.com"]),
        ("jose", ["jose@example.com"]),
        ("josé", ["jose@example.com"]),
        ("alvarez", ["jose@example.com"]),
        ("muller", ["hans@example.com"]),
        ("MÜLLER", ["hans@example.com"]),
        ("ozil", ["mesut@example.com"]),
        ("walesa", ["lech@example.com"]),  # ł has no decomposition: folded by hand
        ("lech wał", ["lech@example.com"]),
        ("öz", ["mesut@example.com"]),  # under 3 letters: the LIKE path folds the same
        ("Ál", ["jose@example.com", "lech@example.com"]),  # Álvarez, Wałęsa
        ("smith", ["ann@example.com"]),
        ("zü", []),
    ],
)
def test_search_ignores_accents_and_case(
    repo: ContactsRepository, term: str, expected: list[str]
) -> None:
    assert emails(repo, term) == expected


def test_accented_email_is_found_without_the_accent(db: Database) -> None:
    add_contacts(db, [("josé@exämple.com", "", "")])
    repo = ContactsRepository(db)
    assert emails(repo, "jose@example") == ["josé@exämple.com"]
    assert emails(repo, "exa") == ["josé@exämple.com"]


def test_a_search_filter_condition_folds_too(db: Database) -> None:
    from session_tui.data.filters import parse

    add_contacts(db, PEOPLE)
    repo = ContactsRepository(db)
    query = ContactQuery(filter=parse("search:muller"))
    assert [r.email for r in repo.page(query, 0, 10)] == ["hans@example.com"]


ORDERED = [  # last names in the order the alphabet gives them
    "Adams",
    "Ødegaard",  # Ø sorts as O with a mark, not after Z
    "Oliver",
    "Ørsted",
    "Lea",
    "Léa",
    "Leb",
    "Linh",
    "Zoe",
]
EXPECTED = ["Adams", "Lea", "Léa", "Leb", "Linh", "Ødegaard", "Oliver", "Ørsted", "Zoe"]


def test_names_sort_by_the_unicode_collation_algorithm(db: Database) -> None:
    add_contacts(db, [(f"p{i}@example.com", "", last) for i, last in enumerate(ORDERED)])
    repo = ContactsRepository(db)
    asc = [r.last_name for r in repo.page(ContactQuery(), 0, 100)]
    assert asc == EXPECTED
    desc = [r.last_name for r in repo.page(ContactQuery(descending=True), 0, 100)]
    assert desc == EXPECTED[::-1]


def test_last_name_first_then_first_name_then_id(db: Database) -> None:
    ids = add_contacts(
        db,
        [
            ("a@example.com", "Émile", "Dupont"),
            ("b@example.com", "Emile", "Dupont"),
            ("c@example.com", "Zoé", "Dupond"),
            ("d@example.com", "emile", "Dupont"),
            ("e@example.com", "Emile", "Dupont"),
        ],
    )
    repo = ContactsRepository(db)
    got = [r.id for r in repo.page(ContactQuery(), 0, 100)]
    # Dupond < Dupont; emile < Emile (case) < Émile (accent: a stronger difference);
    # the two identical names by id.
    assert got == [ids[2], ids[3], ids[1], ids[4], ids[0]]


def test_paging_and_end_by_name_agree_with_the_full_order(db: Database) -> None:
    firsts = ["Ana", "Ána", "anA", "Ægir", "Ørjan", "Łucja", "Zoë", "ß", "李", ""]
    lasts = ["Núñez", "Nunez", "Ødegaard", "Oliver", "Çelik", "Celik", "王", "de la Cruz"]
    people = [
        (f"p{i}@example.com", firsts[i % len(firsts)], lasts[(i * 3) % len(lasts)])
        for i in range(83)
    ]
    add_contacts(db, people)
    repo = ContactsRepository(db)
    q = ContactQuery()
    total = repo.count(q)
    full = [r.id for r in repo.page(q, 0, 1000)]
    assert len(full) == total == 83
    for size in (7, 20):
        windows = [r.id for off in range(0, total, size) for r in repo.page(q, off, size, total)]
        assert windows == full
    end = [r.id for r in repo.page(q, total - 10, 10, total)]  # End: read backwards
    assert end == full[-10:]
    desc = ContactQuery(descending=True)
    assert [r.id for r in repo.page(desc, 0, 1000)] == full[::-1]


def test_check_finds_and_repairs_wrong_derived_columns(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = add_contacts(db, PEOPLE)
    assert check_statuses(db).derived.differences == 0
    with db.engine.begin() as conn:  # as a writer that forgot them would leave them
        conn.execute(
            update(contact_t).where(contact_t.c.id == ids[0]).values(search_text="", name_key=b"")
        )
        conn.execute(update(contact_t).where(contact_t.c.id == ids[3]).values(last_name="Meyer"))
    repo = ContactsRepository(db)
    assert emails(repo, "maria lopez") == []
    report = check_statuses(db)
    assert (report.derived.differences, report.derived.remaining) == (2, 2)
    assert report.derived.examples == ["maria.lopez@example.com", "hans@example.com"]
    assert report.differences == 0  # the statuses are right

    assert main(["--db", db_url, "check"]) == 1
    out = capsys.readouterr().out
    assert "2 with a wrong sort key or search text" in out and "check --repair" in out
    assert main(["--db", db_url, "check", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["derived_columns"]["differences"] == 2

    fixed = repair_statuses(db)
    assert (fixed.derived.repaired, fixed.derived.remaining) == (2, 0)
    assert emails(repo, "maria lopez") == ["maria.lopez@example.com"]
    assert emails(repo, "meyer") == ["hans@example.com"]
    assert emails(repo, "muller") == []
    assert check_statuses(db).derived.differences == 0
    assert main(["--db", db_url, "check"]) == 0
    assert "every status is right" in capsys.readouterr().out
