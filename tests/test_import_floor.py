"""The import's bulk paths: which rows get a RowVerdict, the preview that writes
nothing, load-first-index-after on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from session_tui.data.check import check_statuses
from session_tui.data.csvio import (
    ImportCancelled,
    ImportReport,
    Verdict,
    import_csv,
    import_writers,
)
from session_tui.data.csvio import importer as importer_mod
from session_tui.data.db import Database, DatabaseError
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.sqlite_bulk import BulkWrite
from session_tui.data.tables import contact_t, event_t, membership_t, product_t


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["email", "first_name", "last_name"])
        writer.writerows(rows)
    return path


def people(n: int, start: int = 0) -> list[tuple[str, str, str]]:
    return [(f"p{i}@example.com", f"First{i}", f"Last{i}") for i in range(start, start + n)]


def count_verdicts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many RowVerdicts the importer builds (a one-item list, updated)."""
    made = [0]
    real = importer_mod.RowVerdict

    def counting(*args: Any) -> Any:
        made[0] += 1
        return real(*args)

    monkeypatch.setattr(importer_mod, "RowVerdict", counting)
    return made


def test_a_clean_file_builds_verdicts_for_the_sample_only(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = count_verdicts(monkeypatch)
    source = write_csv(tmp_path / "clean.csv", people(95))
    report = import_csv(sqlite_db, source, batch_size=10, sample_rows=15, problem_rows=4)
    assert report.added == 95
    assert [r.line for r in report.rows] == list(range(2, 17))
    assert made[0] == 15


def test_problem_rows_after_the_sample_are_kept_up_to_the_limit(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = count_verdicts(monkeypatch)
    rows = people(60)
    rows[30] = rows[3]  # a repeat (line 32)
    rows[41] = ("not-an-email", "X", "Y")  # invalid (line 43)
    rows[45] = rows[4]  # a repeat (line 47)
    rows[52] = rows[5]  # a repeat, over the limit of problem rows (line 54)
    source = write_csv(tmp_path / "mixed.csv", rows)
    report = import_csv(sqlite_db, source, batch_size=10, sample_rows=5, problem_rows=3)
    assert report.summary() == {"added": 56, "skipped": 0, "duplicates": 3, "invalid": 1}
    assert [(r.line, r.verdict) for r in report.rows[5:]] == [
        (32, Verdict.DUPLICATE),
        (43, Verdict.INVALID),
        (47, Verdict.DUPLICATE),
    ]
    assert made[0] == 5 + 3  # the sample and the kept problem rows, none past the limit


# -- the preview ---------------------------------------------------------------------


def dump(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables an import writes, in id order."""
    out = {}
    with db.engine.connect() as conn:
        for table in (contact_t, product_t, membership_t, event_t):
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]
    return out


def report_fields(report: ImportReport) -> dict[str, object]:
    fields = {
        name: getattr(report, name)
        for name in (
            "added",
            "skipped",
            "duplicates",
            "invalid",
            "memberships_read",
            "memberships_granted",
            "memberships_reactivated",
            "memberships_unchanged",
            "memberships_skipped",
            "products_to_create",
            "products_archived",
        )
    }
    fields["rows"] = [(r.line, r.verdict, r.email, r.reason) for r in report.rows]
    return fields


def test_preview_inserts_nothing_and_matches_the_import_across_batches(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("Course", "Club"):
        ProductsRepository(db).add(name)
    repo = MembershipsRepository(db)
    repo.grant("old@example.com", "Course", "paid", first_name="Old")
    club = repo.grant("old@example.com", "Club", "paid")
    repo.cancel(club.membership.id)
    repo.grant("other@example.com", "Club", "paid")
    header = ["email", "first_name", "products", "payment_types"]
    rows = [
        ["old@example.com", "A", "Club; Retreat", "comped; free"],  # reactivated + new product
        ["n1@example.com", "B", "Course", "paid"],
        ["n2@example.com", "C", "", ""],
        ["n1@example.com", "B2", "Club", "paid"],  # repeat in the next batch
        ["old@example.com", "A2", "Club; Retreat; Course", "paid; paid; paid"],  # seen again
        ["other@example.com", "D", "Course", "free"],
        ["bad-email", "E", "", ""],
        ["n3@example.com", "F", "Retreat", "paid"],
        ["n2@example.com", "C2", "", ""],
        ["other@example.com", "D2", "Course", "paid"],  # again, a batch later
    ]
    path = tmp_path / "m.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)

    def no_keys(*_args: object) -> bytes:
        raise AssertionError("the preview computes no sort key or search text")

    before = dump(db)
    for create in (False, True):
        with monkeypatch.context() as patch:
            patch.setattr(import_writers, "name_key", no_keys)
            patch.setattr(import_writers, "search_text", no_keys)
            preview = import_csv(
                db,
                path,
                dry_run=True,
                batch_size=3,
                update_memberships=True,
                create_products=create,
            )
        assert dump(db) == before
        assert preview.products_created == 0
        if create:
            created = report_fields(preview)
    done = import_csv(db, path, batch_size=3, update_memberships=True, create_products=True)
    assert report_fields(done) == created
    assert (done.added, done.skipped, done.duplicates, done.invalid) == (3, 4, 2, 1)
    assert (
        done.memberships_granted,
        done.memberships_reactivated,
        done.memberships_unchanged,
    ) == (4, 1, 4)
    assert done.products_created == 1


# -- load first, index after (SQLite) ---------------------------------------------------


def schema(db: Database) -> list[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        ).all()
    return [tuple(r) for r in rows]


def index_names(db: Database) -> set[str]:
    return {name for kind, name, _ in schema(db) if kind == "index"}


@pytest.fixture
def loads_first(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every import loads first (whatever its size); records the rows expected."""
    expected: list[int] = []
    real = import_writers.loads_first

    def always(rows: int, existing: int) -> bool:
        expected.append(rows)
        real(rows, existing)
        return True

    monkeypatch.setattr(import_writers, "loads_first", always)
    return expected


def test_threshold_of_loading_first() -> None:
    big = import_writers.REINDEX_MIN_ROWS
    assert import_writers.loads_first(big, 0)
    assert import_writers.loads_first(big, 2 * big)
    assert not import_writers.loads_first(big, 2 * big + 1)
    assert not import_writers.loads_first(big - 1, 0)


def test_load_first_rebuilds_the_same_indexes_and_check_is_clean(
    sqlite_db: Database, tmp_path: Path, loads_first: list[int]
) -> None:
    import_csv(sqlite_db, write_csv(tmp_path / "a.csv", people(30)))
    before = schema(sqlite_db)
    assert {"ix_contact_name_key", "ix_contact_created"} <= index_names(sqlite_db)
    report = import_csv(sqlite_db, write_csv(tmp_path / "b.csv", people(50, 20)), batch_size=10)
    assert (report.added, report.skipped) == (40, 10)
    assert len(loads_first) == 2  # once per import, before its first batch is written
    assert schema(sqlite_db) == before
    assert check_statuses(sqlite_db).differences == 0
    with sqlite_db.engine.connect() as conn:
        integrity = conn.execute(text("PRAGMA integrity_check")).scalar_one()
        fts = conn.execute(
            text("SELECT count(*) FROM contact_fts WHERE contact_fts MATCH 'last65'")
        )
        assert fts.scalar_one() == 1
    assert integrity == "ok"
    found = ContactsRepository(sqlite_db).count(ContactQuery(search="First65"))
    assert found == 1


@pytest.mark.parametrize("how", ["cancel", "error"])
def test_a_failed_load_first_leaves_schema_and_data_as_they_were(
    sqlite_db: Database,
    tmp_path: Path,
    loads_first: list[int],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    import_csv(sqlite_db, write_csv(tmp_path / "a.csv", people(30)))
    before_schema, before_rows = schema(sqlite_db), dump(sqlite_db)
    source = write_csv(tmp_path / "b.csv", people(50, 20))
    if how == "cancel":
        calls = iter([False, False, True])
        with pytest.raises(ImportCancelled):
            import_csv(sqlite_db, source, batch_size=10, cancel=lambda: next(calls, True))
    else:

        def broken(self: BulkWrite) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(BulkWrite, "build_indexes", broken)
        with pytest.raises(DatabaseError):
            import_csv(sqlite_db, source, batch_size=10)
    assert loads_first  # the indexes were dropped before it failed
    assert schema(sqlite_db) == before_schema
    assert dump(sqlite_db) == before_rows
