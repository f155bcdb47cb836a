"""`session-tui memberships add|extend|payment|cancel PRODUCT --filter|--segment|--emails`:
counts first, --dry-run, --yes, --json, refusal without a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from session_tui.cli import main
from session_tui.data.db import Database, open_database
from session_tui.data.filters import parse
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.segments import SegmentsRepository
from tests.helpers import add_contacts, add_membership, add_product


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seeded(db_url: str) -> Any:
    db = open_database(db_url)
    ids = add_contacts(db, [(f"p{i}@example.org", f"P{i}", "T") for i in range(5)])
    course = add_product(db, "Course")
    add_membership(db, ids[0], course, "free")
    add_membership(db, ids[1], course, "free", expires=datetime(2099, 1, 1))
    add_membership(db, ids[2], course, "paid", cancelled=datetime(2025, 1, 1))
    SegmentsRepository(db).save("free ones", parse("payment:free"))
    yield db, ids
    db.dispose()


def memberships(db: Database) -> dict[str, tuple[str, Any, Any]]:
    return {
        r.email: (r.payment_type, r.expires_at, r.cancelled_at)
        for r in MembershipsRepository(db).all()
    }


def test_grant_with_filter_dry_run_then_yes(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    db, _ids = seeded
    before = memberships(db)
    argv = ["memberships", "add", "Course", "--filter", "search:example", "--payment", "comped"]
    code, out, _ = run(capsys, *argv, "--dry-run", "--db", db_url)
    sentence = (
        'Grant "Course" (comped, never expires) to 5 contacts: 2 new memberships, '
        "1 reactivated, 2 already active"
    )
    assert code == 0 and out.splitlines() == [sentence, "dry run: nothing was written"]
    assert memberships(db) == before
    code, out, err = run(capsys, *argv, "--db", db_url)
    assert code == 1 and "add --yes to go ahead: it touches 3 contacts" in err
    assert memberships(db) == before
    code, out, _ = run(capsys, *argv, "--yes", "--db", db_url)
    assert code == 0 and out.splitlines() == [sentence, f"done: {sentence}"]
    after = memberships(db)
    assert after["p3@example.org"] == ("comped", None, None)
    assert after["p2@example.org"] == ("comped", None, None)  # reactivated
    assert after["p0@example.org"] == before["p0@example.org"]  # already active


def test_extend_payment_cancel_with_segment_and_json(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    db, _ids = seeded
    common = ["--segment", "free ones", "--yes", "--json", "--db", db_url]
    code, out, _ = run(
        capsys, "memberships", "extend", "Course", "--expires", "2030-05-01", *common
    )
    data = json.loads(out)
    assert code == 0 and data["dry_run"] is False
    assert data["plan"]["changed"] == 2 and data["result"]["changed"] == 2
    assert data["result"]["sentence"].startswith('Extend "Course" (expires 2030-05-01)')
    assert memberships(db)["p0@example.org"][1] == datetime(2030, 5, 1)
    code, out, _ = run(capsys, "memberships", "payment", "Course", "--payment", "paid", *common)
    assert code == 0 and json.loads(out)["result"]["changed"] == 2
    assert memberships(db)["p1@example.org"][0] == "paid"
    # the segment (payment:free) matches nobody now
    code, out, _ = run(capsys, "memberships", "cancel", "Course", *common)
    assert code == 0 and json.loads(out)["plan"]["selected"] == 0
    code, out, _ = run(
        capsys,
        "memberships",
        "cancel",
        "Course",
        "--filter",
        "payment:paid",
        "--yes",
        "--db",
        db_url,
    )
    assert code == 0 and out.startswith('Cancel "Course" for 2 contacts; 1 already cancelled')
    assert all(m[2] is not None for m in memberships(db).values())


def test_emails_file_and_stdin(
    capsys: pytest.CaptureFixture[str],
    seeded: Any,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, _ids = seeded
    listing = tmp_path / "cohort.txt"
    listing.write_text("# cohort\nP3@Example.org\n\nnobody@example.org\n", encoding="utf-8")
    code, out, err = run(
        capsys,
        "memberships",
        "add",
        "Course",
        "--emails",
        str(listing),
        "--payment",
        "paid",
        "--db",
        db_url,
    )
    assert code == 0, err  # one contact touched: no --yes needed
    assert "1 email match no contact (skipped): nobody@example.org" in err
    assert memberships(db)["p3@example.org"] == ("paid", None, None)
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("p4@example.org\n"))
    code, out, _ = run(
        capsys,
        "memberships",
        "add",
        "Course",
        "--emails",
        "-",
        "--payment",
        "free",
        "--json",
        "--dry-run",
        "--db",
        db_url,
    )
    assert code == 0 and json.loads(out)["plan"]["new"] == 1
    assert "p4@example.org" not in memberships(db)


def test_past_expiry_needs_allow_past(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    db, _ids = seeded
    before = memberships(db)
    argv = [
        "memberships",
        "extend",
        "Course",
        "--filter",
        "payment:free",
        "--expires",
        "2026-01-02",
        "--yes",
        "--db",
        db_url,
    ]
    code, out, err = run(capsys, *argv)
    assert code == 1 and "this will make 2 memberships expired; add --allow-past" in err
    assert "; this will make 2 memberships expired" in out
    assert memberships(db) == before
    code, out, err = run(capsys, *argv, "--allow-past")
    assert code == 0, err
    assert memberships(db)["p0@example.org"][1] == datetime(2026, 1, 2)


def test_single_email_forms_still_work_and_mixing_is_refused(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    db, _ids = seeded
    code, out, _ = run(
        capsys,
        "memberships",
        "payment",
        "p0@example.org",
        "Course",
        "--payment",
        "comped",
        "--db",
        db_url,
    )
    assert code == 0 and out.strip() == "“Course” of p0@example.org is now comped"
    code, _, err = run(
        capsys,
        "memberships",
        "cancel",
        "p0@example.org",
        "Course",
        "--filter",
        "payment:free",
        "--db",
        db_url,
    )
    assert code == 2 and "give only the PRODUCT, not an EMAIL" in err
    code, _, err = run(capsys, "memberships", "cancel", "Course", "--db", db_url)
    assert code == 2 and "give EMAIL and PRODUCT" in err
    code, _, err = run(
        capsys,
        "memberships",
        "add",
        "Gone",
        "--filter",
        "payment:free",
        "--payment",
        "paid",
        "--yes",
        "--db",
        db_url,
    )
    assert code == 1 and err.strip() == "session-tui: error: there is no product “Gone”"


def test_refuses_without_a_terminal_in_a_child_process(
    seeded: Any, db_url: str, tmp_path: Path
) -> None:
    db, _ids = seeded
    before = memberships(db)
    env = {**os.environ, "SESSION_TUI_DATA_DIR": str(tmp_path)}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "session_tui",
            "memberships",
            "cancel",
            "Course",
            "--filter",
            "payment:free",
            "--db",
            db_url,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 1
    assert res.stdout.startswith('Cancel "Course" for 2 contacts')
    assert res.stderr.strip() == (
        "session-tui: error: add --yes to go ahead: it touches 2 contacts "
        "(there is no terminal to ask on); nothing was changed"
    )
    assert memberships(db) == before


def test_every_bulk_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("add", "extend", "payment", "cancel", "list"):
        with pytest.raises(SystemExit):
            main(["memberships", action, "--help"])
        out = capsys.readouterr().out
        assert "examples:\n  session-tui memberships " + action in out
