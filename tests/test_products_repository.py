"""ProductsRepository on SQLite and PostgreSQL: validation, rename, archive."""

from __future__ import annotations

import pytest

from session_tui.data.db import Database
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.validation import ValidationError


@pytest.fixture
def repo(db: Database) -> ProductsRepository:
    return ProductsRepository(db)


def test_add_trims_and_collapses_whitespace(repo: ProductsRepository) -> None:
    p = repo.add("  1:1 \t Coaching\x1b[31m ")
    assert p.name == "1:1 Coaching[31m"  # control characters removed
    assert [r.name for r in repo.all()] == ["1:1 Coaching[31m"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "product name is empty"),
        ("   ", "product name is empty"),
        ("x" * 201, "longer than 200"),
    ],
)
def test_add_rejects_invalid_names(repo: ProductsRepository, name: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        repo.add(name)
    assert err.value.field == "name"
    assert repo.all() == []


def test_name_of_200_characters_is_fine(repo: ProductsRepository) -> None:
    assert repo.add("x" * 200).name == "x" * 200


@pytest.mark.parametrize("dup", ["course", "COURSE", " Course ", "cOuRsE"])
def test_names_are_unique_ignoring_case(repo: ProductsRepository, dup: str) -> None:
    repo.add("Course")
    with pytest.raises(ValidationError, match="already exists"):
        repo.add(dup)
    assert len(repo.all()) == 1


def test_unique_ignoring_case_beyond_ascii(repo: ProductsRepository) -> None:
    repo.add("Über Coaching")
    with pytest.raises(ValidationError, match="already exists"):
        repo.add("über coaching")


def test_rename(repo: ProductsRepository) -> None:
    a = repo.add("Course")
    repo.add("Coaching")
    assert repo.rename("course", "COURSE").name == "COURSE"  # own name, other case: fine
    with pytest.raises(ValidationError, match="already exists"):
        repo.rename(a.id, "coaching")
    with pytest.raises(ValidationError, match="empty"):
        repo.rename(a.id, " ")
    with pytest.raises(ValidationError, match="no product"):
        repo.rename("Nope", "Other")
    assert repo.rename(a.id, "Mindset Course").name == "Mindset Course"
    assert repo.get("mindset course") is not None
    assert repo.get("course") is None


def test_archive_and_unarchive(repo: ProductsRepository) -> None:
    repo.add("Course")
    repo.add("Retreat")
    assert repo.archive("retreat").archived
    assert repo.archive("retreat").archived  # idempotent
    assert repo.names() == ["Course"]
    assert repo.names(include_archived=True) == ["Course", "Retreat"]
    assert [p.archived for p in repo.all()] == [False, True]
    assert repo.all(include_archived=False)[0].name == "Course"
    assert not repo.unarchive("Retreat").archived
    assert repo.names() == ["Course", "Retreat"]
    with pytest.raises(ValidationError, match="no product"):
        repo.archive("Nope")
