"""A CLI scripts can trust: with --json every error is one JSON object on stderr,
`{"error": "...", "code": "..."}`, and the exit code says what kind (0 ok, 1
refused/failed, 2 usage, 3 conflict/busy); every command's --help has an example;
no colour in the output."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from session_tui.cli import build_parser, main
from session_tui.cli.common import ERROR_CODES, CliError, classify
from session_tui.cli.examples import subcommands
from session_tui.data import db as db_module
from session_tui.data.db import open_database


def json_error(capsys: pytest.CaptureFixture[str], code: int) -> dict[str, str]:
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    payload = json.loads(lines[0])
    assert set(payload) == {"error", "code"}
    assert isinstance(payload["error"], str) and payload["error"]
    assert payload["code"] in ERROR_CODES
    assert ERROR_CODES[payload["code"]] == code, payload
    assert "Traceback" not in err
    return payload


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    try:
        code = main([*argv, "--json"])
    except SystemExit as exc:  # argparse usage errors exit
        code = int(exc.code or 0)
    return code, json_error(capsys, code)


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    url = str(tmp_path / "demo.db")
    assert main(["demo", "--contacts", "20", "--seed", "2", "--db", url]) == 0
    return url


# One failing call per command family: (argv, expected code).
FAMILIES: dict[str, tuple[list[str], str]] = {
    "import": (["import", "{tmp}/missing.csv"], "not_found"),
    "import usage": (["import"], "usage"),
    "export": (["export", "{tmp}/out.csv", "--segment", "No such"], "not_found"),
    "export filter": (["export", "{tmp}/out.csv", "--filter", "status:bogus"], "refused"),
    "segments": (["segments", "show", "No such"], "not_found"),
    "segments group": (["segments"], "usage"),
    "products": (["products", "rename", "No such", "Other"], "not_found"),
    "memberships": (
        ["memberships", "add", "a@example.com", "No such", "--payment", "paid"],
        "not_found",
    ),
    "memberships usage": (
        ["memberships", "add", "a@example.com", "X", "--payment", "bogus"],
        "usage",
    ),
    "demo": (["demo", "--contacts", "-1"], "refused"),
    "restore": (["restore", "{tmp}/missing.jsonl.gz"], "not_found"),
    "restore usage": (["restore"], "usage"),
    "config": (["config", "show", "--config", "{tmp}/bad.toml"], "config"),
    "completion": (["completion", "tcsh"], "usage"),
    "top level": (["no-such-command"], "usage"),
    "contacts": (["contacts", "show", "nobody@example.com"], "not_found"),
    "contacts refused": (["contacts", "delete", "--filter", "status:active"], "refused"),
    "check": (["check", "--repair", "--bogus"], "usage"),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_command_family_reports_json_errors(
    family: str, demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.toml").write_text("theme = 3\n", encoding="utf-8")
    argv, expected = FAMILIES[family]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    capsys.readouterr()
    code, payload = run_json([*argv, "--db", demo_db], capsys)
    assert payload["code"] == expected
    assert code == ERROR_CODES[expected]


def test_without_json_an_error_is_one_plain_line(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["segments", "show", "No such", "--db", demo_db]) == 1
    err = capsys.readouterr().err
    assert err.startswith("session-tui: error: ") and err.count("\n") == 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(err)


def _hold_write_lock(url: str):  # type: ignore[no-untyped-def]
    """Another program in the middle of a write transaction on the product table."""
    engine = create_engine(url)
    conn = engine.connect()
    if url.startswith("sqlite"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("LOCK TABLE product IN ACCESS EXCLUSIVE MODE"))
    return engine, conn


def test_a_busy_database_is_exit_code_3(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    open_database(db_url).dispose()  # create the schema
    monkeypatch.setattr(db_module, "LOCK_WAIT_MS", 200)
    engine, conn = _hold_write_lock(db_url)
    try:
        code, payload = run_json(["products", "add", "Busy Product", "--db", db_url], capsys)
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()
    assert (code, payload["code"]) == (3, "busy"), payload
    assert "busy" in payload["error"]


def test_version_conflicts_and_busy_messages_are_classified() -> None:
    from session_tui.data.editing import VersionConflict

    try:
        try:
            raise VersionConflict(1, None)
        except VersionConflict as inner:
            raise CliError("someone else changed this contact; nothing was saved") from inner
    except CliError as exc:
        assert classify(exc)[1] == "conflict"
    assert (
        classify(CliError("the database is busy (another program holds a lock); try again"))[1]
        == "busy"
    )
    assert classify(RuntimeError("boom")) == ("RuntimeError: boom", "failed")
    assert classify(CliError("bad", 2))[1] == "usage"
    assert classify(CliError("x", kind="not_found"))[1] == "not_found"
    assert classify(CliError("--email: there is no contact a@b.c"))[1] == "not_found"
    assert classify(CliError("add --yes (there is no terminal to ask on)"))[1] == "refused"


def test_every_command_and_group_has_an_example_in_its_help() -> None:
    parser = build_parser()
    assert "exit codes" in parser.format_help() and "examples:" in parser.format_help()
    commands = subcommands(parser)
    assert {"import", "export", "config show", "completion"} <= {p for p, _ in commands}
    for path, child in commands:
        help_text = child.format_help()
        assert "example" in help_text, f"'{path} --help' has no example"
        assert "session-tui " in help_text.split("example", 1)[1], path


def test_help_examples_keep_their_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    out = capsys.readouterr().out
    assert "examples:\n  session-tui import members.csv --dry-run\n" in out


def _child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(extra)
    return env


@pytest.mark.parametrize("no_color", [True, False])
def test_cli_output_has_no_colour(tmp_path: Path, demo_db: str, no_color: bool) -> None:
    """Plain text always (no colour codes at all), so NO_COLOR is honoured trivially,
    even on a terminal-like FORCE_COLOR environment."""
    extra = {"NO_COLOR": "1"} if no_color else {"FORCE_COLOR": "1"}
    for argv in (
        ["products", "list"],
        ["memberships", "list"],
        ["segments", "show", "x"],
        ["--help"],
        ["import", "--help"],
    ):
        res = subprocess.run(
            [sys.executable, "-m", "session_tui", *argv, "--db", demo_db],
            capture_output=True,
            text=True,
            env=_child_env(tmp_path, **extra),
        )
        assert "\x1b" not in res.stdout + res.stderr, argv


def test_namespace_without_json_flag_uses_plain_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from session_tui.cli.common import run_command, set_json_errors

    set_json_errors(False)

    def fails(_args: argparse.Namespace) -> int:
        raise CliError("nope", kind="refused")

    assert run_command(fails, argparse.Namespace(json=True)) == 1
    assert json.loads(capsys.readouterr().err) == {"error": "nope", "code": "refused"}
    assert run_command(fails, argparse.Namespace()) == 1
    assert capsys.readouterr().err == "session-tui: error: nope\n"
