"""The command line's common behaviour: --version, --help, --db anywhere, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from session_tui import SCHEMA_VERSION, __version__
from session_tui.cli import main
from session_tui.data.db import open_database
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == (
        f"session-tui {__version__} (database schema {SCHEMA_VERSION})"
    )


def test_demo_fills_the_database_given_after_the_command(tmp_path: Path, capsys) -> None:
    target = tmp_path / "demo.db"
    assert main(["demo", "--contacts", "300", "--seed", "7", "--db", str(target), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["contacts"] == 300 and summary["memberships"] > 0 and summary["events"] > 0
    db = open_database(str(target))
    try:
        assert ContactsRepository(db).total() == 300
    finally:
        db.dispose()
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    from session_tui.data.demo import generate_demo

    names = []
    for i in range(2):
        db = open_database(str(tmp_path / f"d{i}.db"))
        generate_demo(db, 50, seed=3)
        rows = ContactsRepository(db).page(ContactQuery(), 0, 50)
        names.append([(r.email, r.first_name, r.last_name) for r in rows])
        db.dispose()
    assert names[0] == names[1]


def test_env_var_selects_the_database(tmp_path: Path, monkeypatch, capsys) -> None:
    target = tmp_path / "env.db"
    monkeypatch.setenv("SESSION_TUI_DB", str(target))
    assert main(["demo", "--contacts", "5", "--seed", "1"]) == 0
    assert target.exists()


def test_default_database_lives_in_the_private_data_dir(_private_data_dir: Path) -> None:
    assert main(["demo", "--contacts", "2", "--seed", "1"]) == 0
    db_file = _private_data_dir / "session-tui.db"
    assert db_file.exists()
    assert os.stat(db_file).st_mode & 0o777 == 0o600
    assert os.stat(_private_data_dir).st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--contacts", "5", "--db", "postgresql://nobody@127.0.0.1:1/none"],
        ["demo", "--contacts", "-3"],
        ["demo", "--contacts", "5", "--db", "/proc/no-such-dir/x.db"],
        ["demo", "--contacts", "many"],
    ],
)
def test_errors_are_one_line_without_traceback(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "SESSION_TUI_DATA_DIR": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, "-m", "session_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("session-tui: error:"), res.stderr
