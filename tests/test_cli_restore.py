"""`session-tui restore BACKUP`: restores a deletion backup; one-line errors otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from session_tui.cli import main
from session_tui.data.db import Database, open_database
from session_tui.data.deletion import delete_contacts
from tests.test_deletion import seed, snapshot


def test_restore_puts_back_exactly_what_was_deleted(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    s = seed(db)
    before = snapshot(db)
    result = delete_contacts(db, s["ids"][:3])
    assert main(["restore", str(result.backup_path), "--db", db_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["contacts"] == 3 and out["memberships"] == 3 and out["events"] == 5
    assert snapshot(db) == before


def test_restore_human_output_and_list(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = open_database(sqlite_url)
    try:
        s = seed(db)
        result = delete_contacts(db, s["ids"][:1])
    finally:
        db.dispose()
    assert main(["restore", "--list", "--db", sqlite_url]) == 0
    assert str(result.backup_path) in capsys.readouterr().out
    assert main(["restore", str(result.backup_path), "--db", sqlite_url]) == 0
    assert capsys.readouterr().out.startswith(
        "restored 1 contact, 2 memberships and 4 history events"
    )


def test_conflict_is_one_line_and_nonzero(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(sqlite_url)
    try:
        s = seed(db)
        result = delete_contacts(db, s["ids"][:1])
    finally:
        db.dispose()
    assert main(["restore", str(result.backup_path), "--db", sqlite_url]) == 0
    capsys.readouterr()
    assert main(["restore", str(result.backup_path), "--db", sqlite_url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing was restored" in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such backup file"),
        (b"", "is empty"),
        (b"\x1f\x8b\x08\x00garbage", "damaged"),
        (b"email,first_name\nann@example.com,Ann\n", "not a session-tui deletion backup"),
        (
            b'{"format": "session-tui-deletion-backup", "version": 1}\n{"contact": {"id"',
            "line 2 is not JSON",
        ),
    ],
)
def test_missing_or_corrupt_file_is_one_clear_line(
    tmp_path: Path, sqlite_url: str, content: bytes | None, needle: str
) -> None:
    path = tmp_path / "backup.jsonl.gz"
    if content is not None:
        path.write_bytes(content)
    res = subprocess.run(
        [sys.executable, "-m", "session_tui", "restore", str(path), "--db", sqlite_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0
    assert res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("session-tui: error:") and needle in res.stderr
    assert "Traceback" not in res.stderr
