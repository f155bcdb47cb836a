"""Shell completion: the real console script asked the way bash/zsh/fish ask it
(argcomplete's COMP_LINE protocol), and the completers called directly, on SQLite
and PostgreSQL; they never crash, print, or create a database."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from session_tui.cli import main
from session_tui.cli.completion import (
    LIMIT,
    complete_emails,
    complete_filter,
    complete_products,
    complete_segments,
)
from session_tui.data.db import open_database
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository


def _script() -> str:
    script = shutil.which("session-tui", path=str(Path(sys.executable).parent))
    assert script
    return script


def complete(line: str, tmp_path: Path, **env: str) -> list[str]:
    """What the shell would offer for `line` (cursor at the end)."""
    out = tmp_path / "completions.txt"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("_ARGCOMPLETE")}
    child_env.update(
        _ARGCOMPLETE="1",
        _ARGCOMPLETE_IFS="\n",
        _ARGCOMPLETE_STDOUT_FILENAME=str(out),
        COMP_LINE=line,
        COMP_POINT=str(len(line)),
        **env,
    )
    res = subprocess.run([_script()], env=child_env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert res.stdout == ""
    return [c for c in out.read_text(encoding="utf-8").split("\n") if c]


def fill(url: str, emails: int = 60) -> None:
    db = open_database(url)
    try:
        products = ProductsRepository(db)
        products.add("1:1 Coaching")
        products.add("Course")
        products.add("Community")
        repo = MembershipsRepository(db)
        for i in range(emails):
            repo.grant(f"ann{i:03d}@example.com", "Course", "paid")
        repo.grant("bob@example.com", "Course", "free")
    finally:
        db.dispose()
    assert main(["segments", "save", "Lapsed", "--filter", "status:expired", "--db", url]) == 0
    assert main(["segments", "save", "Active", "--filter", "status:active", "--db", url]) == 0


def test_subcommands_and_options(tmp_path: Path) -> None:
    commands = complete("session-tui ", tmp_path)
    assert {
        "import",
        "export",
        "segments",
        "products",
        "memberships",
        "config",
        "completion",
    } <= set(commands)
    assert "-h" not in commands  # options once a dash is typed
    assert complete("session-tui mem", tmp_path) == ["memberships "]
    assert set(complete("session-tui memberships ", tmp_path)) >= {"add", "list", "cancel"}
    assert "--dry-run" in complete("session-tui import --d", tmp_path)
    assert set(complete("session-tui completion ", tmp_path)) == {"bash", "zsh", "fish"}
    payments = complete("session-tui memberships add a@b.c X --payment ", tmp_path)
    assert set(payments) == {"paid", "free", "comped"}


def test_file_paths(tmp_path: Path) -> None:
    (tmp_path / "members.csv").write_text("email\n", encoding="utf-8")
    (tmp_path / "mine").mkdir()
    found = complete(f"session-tui import {tmp_path}/m", tmp_path)
    assert f"{tmp_path}/members.csv" in [f.rstrip() for f in found]
    assert f"{tmp_path}/mine/" in found


def test_names_and_emails_from_the_database(db_url: str, tmp_path: Path) -> None:
    fill(db_url)
    db = ["--db", db_url]
    flags = " ".join(db)
    assert complete(f"session-tui products rename {flags} Co", tmp_path) == ["Community", "Course"]
    assert complete(f"session-tui products archive {flags} 1", tmp_path) == ["1:1\\ Coaching "]
    assert complete(f"session-tui segments show {flags} L", tmp_path) == ["Lapsed "]
    assert complete(f"session-tui export out.csv {flags} --segment a", tmp_path) == ["Active "]
    assert complete(f"session-tui memberships list {flags} --email bo", tmp_path) == [
        "bob@example.com "
    ]
    emails = complete(f"session-tui memberships list {flags} --email ann", tmp_path)
    assert len(emails) == LIMIT and emails[0] == "ann000@example.com"
    assert complete(f"session-tui contacts show {flags} ANN00", tmp_path)[0] == (
        "ann000@example.com"
    )
    assert complete(f"session-tui contacts delete {flags} bo", tmp_path) == ["bob@example.com "]
    # memberships add [EMAIL] PRODUCT: the first word may be either
    assert complete(f"session-tui memberships add {flags} co", tmp_path) == ["Community", "Course"]
    assert complete(f"session-tui memberships add {flags} bob", tmp_path) == ["bob@example.com "]
    assert complete(f"session-tui memberships add {flags} bob@example.com Co", tmp_path) == [
        "Community",
        "Course",
    ]


def test_the_database_comes_from_env_or_config(tmp_path: Path, sqlite_url: str) -> None:
    fill(sqlite_url, emails=2)
    path = sqlite_url.removeprefix("sqlite:///")
    assert complete("session-tui segments show L", tmp_path) == []  # the default: no file yet
    assert complete("session-tui segments show L", tmp_path, SESSION_TUI_DB=path) == ["Lapsed "]
    config = tmp_path / "c.toml"
    config.write_text(f'database = "{path}"\n', encoding="utf-8")
    assert complete("session-tui segments show L", tmp_path, SESSION_TUI_CONFIG=str(config)) == [
        "Lapsed "
    ]
    assert complete(f"session-tui segments show --config {config} L", tmp_path) == ["Lapsed "]


def test_completers_fail_silently_and_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    args = argparse.Namespace(db=str(missing))
    assert complete_products("", parsed_args=args) == []
    assert complete_emails("a", parsed_args=args) == []
    assert not missing.exists()
    assert complete(f"session-tui segments show --db {missing} ", tmp_path) == []
    assert not missing.exists()
    # not a database
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    assert complete_segments("", parsed_args=argparse.Namespace(db=str(junk))) == []
    # unreachable server
    unreachable = argparse.Namespace(db="postgresql://nobody@127.0.0.1:1/none")
    assert complete_products("", parsed_args=unreachable) == []
    # a broken settings file
    bad = tmp_path / "bad.toml"
    bad.write_text("database = \n", encoding="utf-8")
    assert complete_products("", parsed_args=argparse.Namespace(config=str(bad))) == []
    assert complete(f"session-tui products rename --config {bad} ", tmp_path) == []


def test_completer_functions_directly(sqlite_url: str) -> None:
    fill(sqlite_url, emails=3)
    args = argparse.Namespace(db=sqlite_url)
    assert complete_products("c", parsed_args=args) == ["Community", "Course"]
    assert complete_segments("", parsed_args=args) == ["Active", "Lapsed"]
    assert complete_emails("ann00", parsed_args=args) == [
        "ann000@example.com",
        "ann001@example.com",
        "ann002@example.com",
    ]
    assert complete_emails("%", parsed_args=args) == []  # LIKE wildcards are literal
    assert complete_products("_", parsed_args=args) == []
    assert "status:active" in complete_filter("stat")
    assert complete_filter("product:X pay") == [
        "product:X payment:paid",
        "product:X payment:free",
        "product:X payment:comped",
    ]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "session-tui" in script and "_ARGCOMPLETE" in script
    if shell == "fish":
        assert "complete --command session-tui" in script
    else:
        assert "complete" in script


def test_the_bash_script_really_completes(tmp_path: Path) -> None:
    """Load the printed script into bash and ask it, as a shell user would."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = tmp_path / "session-tui.bash"
    script.write_text(
        subprocess.run(
            [_script(), "completion", "bash"], capture_output=True, text=True, check=True
        ).stdout,
        encoding="utf-8",
    )
    probe = (
        f"source {script}\n"
        "COMP_WORDS=(session-tui prod); COMP_CWORD=1; COMP_LINE='session-tui prod'; "
        "COMP_POINT=${#COMP_LINE}\n"
        "_python_argcomplete session-tui\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    res = subprocess.run([bash, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert res.stdout.split() == ["products"], res.stderr
