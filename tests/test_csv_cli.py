"""`session-tui import` / `session-tui export` from the shell."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from session_tui.cli import main
from session_tui.data.db import open_database
from session_tui.data.filters import parse
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.repositories.segments import SegmentsRepository

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def total(url: str) -> int:
    db = open_database(url)
    try:
        return ContactsRepository(db).total()
    finally:
        db.dispose()


def test_import_dry_run_then_import_json(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "import", str(FIXTURES / "mailchimp.csv"), "--dry-run", "--db", sqlite_url
    )
    assert code == 0 and err == ""
    assert 'email <- "Email Address"' in out and '"TAGS"' in out
    assert "added 3 · skipped (already exist) 0 · duplicates in file 0 · invalid 0" in out
    assert "dry run: nothing was written" in out
    assert total(sqlite_url) == 0

    rejects = tmp_path / "rejects.csv"
    code, out, _ = run(
        capsys,
        "import",
        str(FIXTURES / "verdicts.csv"),
        "--json",
        "--rejects",
        str(rejects),
        "--db",
        sqlite_url,
    )
    data = json.loads(out)
    assert code == 0
    assert {k: data[k] for k in ("added", "skipped", "duplicates", "invalid")} == {
        "added": 4,
        "skipped": 0,
        "duplicates": 2,
        "invalid": 3,
    }
    assert data["mapping"] == {
        "email": "email",
        "first_name": "first_name",
        "last_name": "last_name",
    }
    assert [r["line"] for r in data["invalid_rows"]] == [5, 6, 8]
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 4
    assert total(sqlite_url) == 4


def test_import_human_output_has_no_terminal_escapes(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "evil.csv"
    path.write_text("email,\x1b[2Jname\n\x1b]0;x\x07bad,Ann\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", str(path), "--db", sqlite_url)
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "line 2: invalid email" in out


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "is empty"),
        ("binary.png", "not a CSV file"),
        ("no-email-column.csv", "no email column"),
        ("missing.csv", "no such file"),
    ],
)
def test_import_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, name: str, message: str
) -> None:
    code, out, err = run(capsys, "import", str(FIXTURES / name), "--db", sqlite_url)
    assert code == 1 and out == ""
    assert err.startswith("session-tui: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_export_to_file_stdout_filter_and_segment(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    db = open_database(sqlite_url)
    ProductsRepository(db).add("Course")
    members = MembershipsRepository(db)
    members.grant("ann@example.com", "Course", "paid", first_name="=Ann")
    members.grant("bob@example.com", "Course", "comped")
    db.dispose()
    run(capsys, "import", str(FIXTURES / "bom.csv"), "--db", sqlite_url)

    target = tmp_path / "all.csv"
    code, out, _ = run(capsys, "export", str(target), "--db", sqlite_url)
    assert code == 0 and out.strip() == f"exported 4 contacts to {target}"
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [r["email"] for r in rows] == [
        "ann@example.com",
        "bob@example.com",
        "zoe@example.com",
        "yusuf@example.com",
    ]
    assert rows[0]["first_name"] == "'=Ann" and rows[0]["products"] == "Course"

    code, out, _ = run(capsys, "export", "-", "--filter", "payment:comped", "--db", sqlite_url)
    assert code == 0
    got = list(csv.DictReader(io.StringIO(out)))
    assert [r["email"] for r in got] == ["bob@example.com"]

    db = open_database(sqlite_url)
    SegmentsRepository(db).save("Paid", parse("payment:paid"))
    db.dispose()
    code, out, _ = run(capsys, "export", "-", "--segment", "paid", "--json", "--db", sqlite_url)
    assert [r["email"] for r in csv.DictReader(io.StringIO(out))] == ["ann@example.com"]

    code, out, _ = run(capsys, "export", str(tmp_path / "j.csv"), "--json", "--db", sqlite_url)
    assert json.loads(out) == {"exported": 4, "file": str(tmp_path / "j.csv")}


def test_export_errors(capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path) -> None:
    code, _, err = run(capsys, "export", "-", "--filter", "status:(", "--db", sqlite_url)
    assert code == 1 and "column" in err
    code, _, err = run(capsys, "export", "-", "--segment", "nope", "--db", sqlite_url)
    assert code == 1 and "nope" in err
    code, _, err = run(capsys, "export", str(tmp_path / "no" / "x.csv"), "--db", sqlite_url)
    assert code == 1 and "cannot write" in err
    with pytest.raises(SystemExit):
        main(["export", "-", "--filter", "x", "--segment", "y"])
