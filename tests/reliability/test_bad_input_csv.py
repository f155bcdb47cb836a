"""Bad CSV input: random bytes, random encodings, NUL bytes, a 50 MB field, 10,000
columns, unbalanced quotes. Whatever the file, the import either refuses it with a
one-line `CsvFormatError`, or imports it so that

- the preview (dry run) and the import agree on the four counts,
- `added` is exactly the number of new contacts in the database,
- nothing invalid reached the database (every email valid and normalised, names
  without control characters and at most 200 characters),
- `PRAGMA integrity_check` passes.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from session_tui.data.csvio import CsvFormatError, ImportReport, import_csv
from session_tui.data.db import Database
from session_tui.data.tables import contact_t
from session_tui.data.validation import MAX_NAME, email_problem, strip_controls
from tests.reliability.helpers import integrity_ok

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def contacts(db: Database) -> list[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        return [
            (r.email, r.first_name, r.last_name)
            for r in conn.execute(
                select(contact_t.c.email, contact_t.c.first_name, contact_t.c.last_name)
            )
        ]


def assert_database_valid(db: Database) -> None:
    for email, first, last in contacts(db):
        assert email_problem(email) is None and email == email.strip().lower(), email
        for name in (first, last):
            assert len(name) <= MAX_NAME
            assert strip_controls(name) == name and name == name.strip(), repr(name)
            assert unicodedata.is_normalized("NFC", name)
    assert integrity_ok(db)


def import_checked(db: Database, path: Path) -> ImportReport | None:
    """Preview, then import; check the invariants. None when the file was refused."""
    with db.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(contact_t)).scalar_one()
    try:
        preview = import_csv(db, path, dry_run=True)
    except CsvFormatError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        with pytest.raises(CsvFormatError):
            import_csv(db, path)
        return None
    report = import_csv(db, path)
    assert report.summary() == preview.summary()
    assert report.data_rows == preview.data_rows
    with db.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(contact_t)).scalar_one()
    assert after - before == report.added
    assert_database_valid(db)
    return report


# -- random input -----------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=2_000))
def test_random_bytes(sqlite_db: Database, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(b"email,first_name,last_name\n" + data)
    import_checked(sqlite_db, path)


_name = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
) | st.sampled_from(["Zoë", "Łukasz", "محمد", "שלום", "日本語", "👩‍👩‍👧", "\u202eevil", "x\x00y"])
_email = st.sampled_from(
    ["a@example.com", "B@Example.COM", " c@example.com ", "bad@", "", "d@exämple.com", "ü@x.de"]
) | st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|org)", fullmatch=True)


@FUZZ
@given(
    rows=st.lists(st.tuples(_email, _name, _name), max_size=15),
    encoding=st.sampled_from(
        ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "shift_jis", "koi8-r"]
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_random_text_in_random_encodings(
    sqlite_db: Database,
    tmp_path: Path,
    rows: list[tuple[str, str, str]],
    encoding: str,
    delimiter: str,
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(["email", "first_name", "last_name"])
    writer.writerows(rows)
    path = tmp_path / "enc.csv"
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
    report = import_checked(sqlite_db, path)
    if report is not None and encoding in ("utf-8", "utf-8-sig", "utf-16"):
        # Lossless encodings: every row is accounted for.
        blank = sum(1 for e, f, la in rows if not (e.strip() or f.strip() or la.strip()))
        assert report.data_rows == len(rows) - blank or any(
            "\n" in f + la or "\r" in f + la or "\x00" in e + f + la for e, f, la in rows
        )


# -- specific shapes ------------------------------------------------------------------


def test_nul_bytes(sqlite_db: Database, tmp_path: Path) -> None:
    # Early in the file: refused as binary, with a message.
    early = tmp_path / "early.csv"
    early.write_bytes(b"email,first_name\nb@x.com,B\x00ob\n")
    assert import_checked(sqlite_db, early) is None
    # Past the sampled head: the row is read; the NUL never reaches the database.
    late = tmp_path / "late.csv"
    filler = b"".join(b"f%05d@example.com,Filler\n" % i for i in range(4_000))
    late.write_bytes(b"email,first_name\n" + filler + b"b@x.com,B\x00ob\nc\x00@x.com,C\n")
    report = import_checked(sqlite_db, late)
    assert report is not None
    assert (report.added, report.invalid) == (4_002, 0)
    # Control characters are removed, as everywhere (normalize_email/normalize_name).
    assert {("b@x.com", "Bob", ""), ("c@x.com", "C", "")} <= set(contacts(sqlite_db))


@pytest.mark.slow
@pytest.mark.parametrize("column", ["note", "first_name", "email"])
def test_a_50_mb_field(sqlite_db: Database, tmp_path: Path, column: str) -> None:
    """One huge cell (a long note, a pasted document) gets a verdict for its row; the
    rest of the file imports."""
    big = "x" * (50 * 1024 * 1024)
    cells = {"email": "big@example.com", "first_name": "Big", "note": "n"}
    cells[column] = big + ("@example.com" if column == "email" else "")
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "first_name", "note"])
        writer.writerow([cells["email"], cells["first_name"], cells["note"]])
        writer.writerow(["small@example.com", "Small", "short"])
    del big, cells
    report = import_checked(sqlite_db, path)
    assert report is not None
    expected_invalid = 0 if column == "note" else 1
    assert (report.added, report.invalid) == (2 - expected_invalid, expected_invalid)
    if expected_invalid:
        reason = next(v.reason for v in report.rows if v.verdict == "invalid")
        assert "longer than" in reason


@pytest.mark.parametrize("email_at", ["first", "last"])
def test_ten_thousand_columns(sqlite_db: Database, tmp_path: Path, email_at: str) -> None:
    """A header wider than the sniffed sample (~120 KB) is read whole."""
    others = [f"column_{i:05d}" for i in range(9_999)]
    header = ["email", *others] if email_at == "first" else [*others, "email"]
    path = tmp_path / "wide.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(3):
            row = ["v"] * 9_999
            writer.writerow(
                [f"w{i}@example.com", *row] if email_at == "first" else [*row, f"w{i}@example.com"]
            )
    report = import_checked(sqlite_db, path)
    assert report is not None and report.added == 3
    assert len(report.layout.ignored) == 9_999


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (b'a@x.com,"Ann\nb@x.com,Bob\nc@x.com,Cy\n', 2),  # never closed
        (b'a@x.com,Ann"\nb@x.com,"Bob\n', 3),  # stray, then never closed
        (b'a@x.com,"Ann"x\nb@x.com,Bob\n', 2),  # text after the closing quote
        (b'a@x.com,"Ann\nb@x.com,Bob\nc@x.com,"Cy"\n', 2),  # closed rows later
        (b'"a@x.com,Ann\n', 2),  # the whole row in an open quote
        (b"ok@x.com,Ok\n" * 3 + b'a@x.com,"' + b"y" * 300_000 + b"\n", 5),  # 300 KB
    ],
)
def test_unbalanced_quotes_are_refused_with_their_line(
    sqlite_db: Database, tmp_path: Path, body: bytes, line: int
) -> None:
    """Not the rest of the file silently read as one cell: the preview says where."""
    path = tmp_path / "quotes.csv"
    path.write_bytes(b"email,first_name\n" + body)
    with pytest.raises(CsvFormatError, match=f"^line {line}: "):
        import_csv(sqlite_db, path, dry_run=True)
    assert import_checked(sqlite_db, path) is None
    assert contacts(sqlite_db) == []


def test_quotes_used_correctly_or_inside_a_word_are_fine(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "quotes.csv"
    path.write_bytes(
        b'email,first_name\na@x.com,Ann "Bo" Smith\nb@x.com,"Multi\nLine"\nc@x.com,"Say ""hi"""\n'
    )
    report = import_checked(sqlite_db, path)
    assert report is not None and report.added == 3
    assert set(contacts(sqlite_db)) == {
        ("a@x.com", 'Ann "Bo" Smith', ""),
        ("b@x.com", "Multi Line", ""),
        ("c@x.com", 'Say "hi"', ""),
    }
