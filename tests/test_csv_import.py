"""CSV import on SQLite and PostgreSQL: verdicts and counts, preview = import,
rejects file, one transaction (cancel/error write nothing), search index, dates."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from session_tui.data.clock import utcnow
from session_tui.data.csvio import (
    CsvFormatError,
    ImportCancelled,
    Verdict,
    import_csv,
    sniff,
    write_rejects,
)
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.tables import contact_t

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def add_contact(db: Database, email: str, first: str = "", last: str = "") -> None:
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(
            insert(contact_t).values(
                email=email, first_name=first, last_name=last, created_at=now, updated_at=now
            )
        )


def contacts(db: Database) -> dict[str, tuple[str, str]]:
    c = contact_t.c
    with db.engine.connect() as conn:
        return {
            r.email: (r.first_name, r.last_name)
            for r in conn.execute(select(c.email, c.first_name, c.last_name))
        }


def count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(contact_t)).scalar_one())


def test_every_verdict_with_reasons_and_line_numbers(db: Database) -> None:
    add_contact(db, "exists@example.com", "Old", "Name")
    report = import_csv(db, FIXTURES / "verdicts.csv")
    assert report.summary() == {"added": 3, "skipped": 2, "duplicates": 1, "invalid": 3}
    assert report.data_rows == 9
    got = [(r.line, r.verdict) for r in report.rows]
    assert got == [
        (2, Verdict.NEW),
        (3, Verdict.EXISTS),
        (4, Verdict.DUPLICATE),
        (5, Verdict.INVALID),
        (6, Verdict.INVALID),
        (7, Verdict.NEW),
        (8, Verdict.INVALID),
        (9, Verdict.NEW),
        (10, Verdict.EXISTS),
    ]
    reasons = {r.line: r.reason for r in report.rows if r.reason}
    assert "@-sign" in reasons[5]
    assert reasons[6] == "email is empty"
    assert reasons[8] == "first name is longer than 200 characters"
    stored = contacts(db)
    assert stored["exists@example.com"] == ("Old", "Name")  # skipped, not overwritten
    assert stored["new1@example.com"] == ("New", "One")  # the first of the repeated rows
    assert stored["new3@example.com"] == ("Spaced Out", "Name")
    assert stored["new2@example.com"] == ("[bold]Markup[/bold]", "[31mRed")  # no escape char
    assert len(stored) == 4


def test_preview_writes_nothing_and_matches_the_import(db: Database) -> None:
    add_contact(db, "exists@example.com")
    preview = import_csv(db, FIXTURES / "verdicts.csv", dry_run=True)
    assert count(db) == 1
    assert preview.dry_run
    done = import_csv(db, FIXTURES / "verdicts.csv")
    assert preview.summary() == done.summary()
    assert preview.rows == done.rows
    again = import_csv(db, FIXTURES / "verdicts.csv", dry_run=True)
    assert again.summary() == {"added": 0, "skipped": 6, "duplicates": 0, "invalid": 3}


@pytest.mark.parametrize("batch_size", [1, 2, 3, 10_000])
def test_verdicts_do_not_depend_on_batches(db: Database, tmp_path: Path, batch_size: int) -> None:
    add_contact(db, "old@example.com")
    path = tmp_path / "b.csv"
    emails = [
        "a@x.io",
        "b@x.io",
        "a@x.io",
        "old@example.com",
        "c@x.io",
        "b@x.io",
        "old@example.com",
        "bad",
        "c@x.io",
        "d@x.io",
        "A@X.IO",
    ]
    path.write_text("email\n" + "\n".join(emails) + "\n", encoding="utf-8")
    report = import_csv(db, path, batch_size=batch_size)
    verdicts = [r.verdict.value for r in report.rows]
    assert verdicts == [
        "new",
        "new",
        "duplicate",
        "exists",
        "new",
        "duplicate",
        "exists",
        "invalid",
        "duplicate",
        "new",
        "duplicate",
    ]
    assert report.summary() == {"added": 4, "skipped": 2, "duplicates": 4, "invalid": 1}
    assert count(db) == 5


@pytest.mark.parametrize("batch_size", [1, 3, 10_000])
@pytest.mark.parametrize("existing", [False, True])
def test_preview_verdicts_are_the_imports_across_batches(
    db: Database, tmp_path: Path, batch_size: int, existing: bool
) -> None:
    """An empty table (the preview then looks nothing up in `contact`) and a table
    with contacts; repeats inside a batch, across batches and of an existing email."""
    if existing:
        add_contact(db, "old@example.com")
    path = tmp_path / "b.csv"
    emails = ["a@x.io", "b@x.io", "a@x.io", "old@example.com", "c@x.io", "b@x.io"]
    emails += ["old@example.com", "bad", "c@x.io", "d@x.io", "A@X.IO", "e@x.io", "d@x.io"]
    path.write_text("email\n" + "\n".join(emails) + "\n", encoding="utf-8")
    preview = import_csv(db, path, dry_run=True, batch_size=batch_size)
    assert count(db) == (1 if existing else 0)
    report = import_csv(db, path, batch_size=batch_size)
    verdicts = [r.verdict.value for r in report.rows]
    assert [r.verdict.value for r in preview.rows] == verdicts
    old = "exists" if existing else "new"
    old_again = "exists" if existing else "duplicate"
    assert verdicts == [
        "new",
        "new",
        "duplicate",
        old,
        "new",
        "duplicate",
        old_again,
        "invalid",
        "duplicate",
        "new",
        "duplicate",
        "new",
        "duplicate",
    ]
    assert preview.summary() == report.summary()
    assert report.added == (5 if existing else 6)
    assert count(db) == 6


def test_real_world_files_import_without_editing(db: Database) -> None:
    assert import_csv(db, FIXTURES / "ghost.csv").added == 4
    assert import_csv(db, FIXTURES / "mailchimp.csv").added == 3
    assert import_csv(db, FIXTURES / "kit.csv").added == 3
    assert import_csv(db, FIXTURES / "session-tui.csv").added == 3
    assert import_csv(db, FIXTURES / "bom.csv").added == 2
    assert import_csv(db, FIXTURES / "cp1252.csv").added == 3
    assert import_csv(db, FIXTURES / "semicolon.csv").added == 2
    assert import_csv(db, FIXTURES / "tab.tsv").added == 2
    stored = contacts(db)
    assert stored["ann.lee@example.com"] == ("Ann", "Lee")  # Ghost's single name column
    assert stored["carmen.diaz@example.com"] == ("Carmen", "de la Cruz Díaz")
    assert stored["dan@example.net"] == ("", "")
    assert stored["erin@example.com"] == ("Erin", "O'Neill")
    assert stored["jo@example.com"] == ("", "")
    assert stored["=cmd@example.com"] == ("=SUM(A1:A9)", "+1")  # escaped cells read back
    assert stored["rene@example.com"] == ("René", "Gonçalves")
    assert stored["zoe@example.com"] == ("Zoë", "Saldaña")
    assert stored["uwe@example.de"] == ("Uwe", "Schmidt")
    assert stored["xia@example.com"] == ("Xia", "Li")


def test_escaped_cells_from_own_export_are_read_back(db: Database) -> None:
    report = import_csv(db, FIXTURES / "session-tui.csv")
    assert report.summary() == {"added": 3, "skipped": 0, "duplicates": 0, "invalid": 0}
    stored = contacts(db)
    assert stored["=cmd@example.com"] == ("=SUM(A1:A9)", "+1")
    assert stored["-lee@example.com"] == ("-dash", "'=quoted")
    assert stored["kim@example.com"] == ("Kim", "Park")


def test_created_at_is_kept_and_bad_dates_fall_back(db: Database, tmp_path: Path) -> None:
    import_csv(db, FIXTURES / "ghost.csv")
    import_csv(db, FIXTURES / "kit.csv")
    path = tmp_path / "dates.csv"
    path.write_text(
        "email,created_at\nbad@example.com,yesterday\nnone@example.com,\n", encoding="utf-8"
    )
    before = utcnow()
    report = import_csv(db, path)
    assert report.dates_defaulted == 1 and any("not a date" in n for n in report.notes())
    c = contact_t.c
    with db.engine.connect() as conn:
        created = dict(conn.execute(select(c.email, c.created_at)).all())
    assert created["ann.lee@example.com"] == datetime(2023, 4, 12, 9, 15, 32)
    assert created["hana@example.com"] == datetime(2023, 7, 4, 8, 30)
    assert created["bad@example.com"] >= before
    assert created["none@example.com"] >= before


def test_header_only_and_blank_rows(db: Database) -> None:
    report = import_csv(db, FIXTURES / "header-only.csv")
    assert report.summary() == {"added": 0, "skipped": 0, "duplicates": 0, "invalid": 0}
    ragged = import_csv(db, FIXTURES / "ragged.csv")
    # ",": blank, not a data row; short and long rows are fine.
    assert ragged.summary() == {"added": 4, "skipped": 0, "duplicates": 0, "invalid": 0}
    assert contacts(db)["r1@example.com"] == ("Ray", "")


def test_rejects_file_has_the_input_headers_and_a_reason(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "rejects.csv"
    report = import_csv(db, FIXTURES / "verdicts.csv", rejects=out)
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["email", "first_name", "last_name", "reason"]
    assert [r[:3] for r in rows[1:]] == [
        ["not-an-email", "Bad", "Email"],
        ["", "No", "Email"],
        ["long@example.com", "x" * 201, "Long"],
    ]
    assert len(rows) - 1 == report.invalid
    # The same file, written later from the preview's layout, is identical.
    again = tmp_path / "again.csv"
    assert write_rejects(sniff(FIXTURES / "verdicts.csv"), again) == 3
    assert again.read_bytes() == out.read_bytes()
    # Fixed and imported again, the reason column is not in the way.
    fixed = out.read_text(encoding="utf-8").replace("not-an-email", "fixed@example.com")
    out.write_text(fixed, encoding="utf-8")
    second = import_csv(db, out, rejects=tmp_path / "rejects2.csv")
    assert second.added == 1 and second.invalid == 2
    header = (tmp_path / "rejects2.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "email,first_name,last_name,reason"


def test_rejects_of_ragged_rows_keep_every_cell(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("email;name\nbad;Ann;extra;cells\nworse\n", encoding="utf-8")
    out = tmp_path / "rej.csv"
    import_csv(db, path, rejects=out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("bad;Ann;invalid email") and lines[1].endswith(";extra;cells")
    assert lines[2].startswith("worse;;invalid email")


def test_cancel_writes_nothing(db: Database, tmp_path: Path) -> None:
    add_contact(db, "keep@example.com")
    path = tmp_path / "many.csv"
    path.write_text("email\n" + "".join(f"p{i}@example.com\n" for i in range(50)), encoding="utf-8")
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) >= 3

    rejects = tmp_path / "rejects.csv"
    with pytest.raises(ImportCancelled):
        import_csv(db, path, batch_size=5, cancel=cancel, rejects=rejects)
    assert contacts(db) == {"keep@example.com": ("", "")}
    assert not rejects.exists() and not list(tmp_path.glob("*.part"))
    # The database is fully usable afterwards (no lock, triggers in place).
    assert import_csv(db, path).added == 50


def test_an_error_midway_writes_nothing(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    good = "".join(f"g{i}@example.com,G\n" for i in range(20))
    path.write_text(
        "email,name\n" + good + 'z@example.com,"open quote\n' + "y" * 140_000, encoding="utf-8"
    )
    with pytest.raises(CsvFormatError, match="line 22"):
        import_csv(db, path, batch_size=4)
    assert count(db) == 0


def test_progress_reports_bytes_and_rows(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("email\n" + "".join(f"p{i}@example.com\n" for i in range(30)), encoding="utf-8")
    seen = []
    import_csv(db, path, batch_size=10, progress=seen.append)
    assert seen[-1].stage == "done" and seen[-1].fraction == 1.0 and seen[-1].rows == 30
    assert [p.rows for p in seen if p.stage == "reading"] == [10, 20, 30]


def sqlite_settings(db: Database) -> tuple[object, ...]:
    """The importing connection's cache size and the FTS5 hashsize (restored afterwards)."""
    with db.engine.connect() as conn:
        return (
            conn.exec_driver_sql("PRAGMA cache_size").scalar(),
            conn.exec_driver_sql("SELECT v FROM contact_fts_config WHERE k = 'hashsize'").scalar(),
        )


def test_imported_contacts_are_searchable(db: Database, tmp_path: Path) -> None:
    add_contact(db, "before@example.com", "Bertha", "Before")
    before = sqlite_settings(db) if db.is_sqlite else None
    import_csv(db, FIXTURES / "mailchimp.csv")
    if db.is_sqlite:
        cache, hashsize = sqlite_settings(db)
        assert cache == before[0] and hashsize in (None, before[1], 1 << 20)
    repo = ContactsRepository(db)
    assert repo.count(ContactQuery(search="müller")) == 1
    assert repo.count(ContactQuery(search="grace@exa")) == 1
    assert repo.count(ContactQuery(search="bertha")) == 1
    # Contacts added after the import are indexed too (the trigger is back).
    add_contact(db, "after@example.com", "Alfonso", "After")
    assert repo.count(ContactQuery(search="alfonso")) == 1
    if db.is_sqlite:
        with db.engine.connect() as conn:
            names = set(
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            assert {"contact_fts_ai", "contact_fts_ad", "contact_fts_au"} <= names
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            conn.execute(text("INSERT INTO contact_fts(contact_fts) VALUES('integrity-check')"))


def test_preview_sample_keeps_first_rows_and_later_problems(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    body = "".join(f"s{i}@example.com\n" for i in range(40)) + "bad1\nbad2\n"
    path.write_text("email\n" + body, encoding="utf-8")
    report = import_csv(db, path, dry_run=True, sample_rows=5, problem_rows=1)
    assert [r.line for r in report.rows] == [2, 3, 4, 5, 6, 42]
    assert report.invalid == 2


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("2023-04-12T09:15:32Z", "2023-04-12 09:15:32.000000"),  # our own export
        ("2023-04-12 09:15:32z", "2023-04-12 09:15:32.000000"),
        ("2024-02-29T23:59:59Z", "2024-02-29 23:59:59.000000"),
        ("2023-04-12T11:15:32+02:00", "2023-04-12 09:15:32.000000"),
        ("2023-02-30T09:15:32Z", None),  # no such day
        ("2023-04-12T24:15:32Z", None),
        ("2023-04-12T0915:32ZZ", None),  # the right length, not the shape
        ("２０２３-04-12T09:15:32Z", None),  # full-width digits
    ],
)
def test_joined_dates_are_read_exactly_or_not_at_all(cell: str, stored: str | None) -> None:
    from session_tui.data.csvio.importer import parse_created

    assert parse_created(cell) == stored
