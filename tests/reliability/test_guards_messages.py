"""Issue 13, item 15: messages that say what is wrong.

- a read-only database never shows an empty URL ("read-only: ");
- a database written by a newer session-tui says so instead of Alembic's
  "Can't locate revision";
- CLI errors show control characters from the user's arguments escaped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from session_tui.cli import main
from session_tui.data.db import Database, DatabaseError, describe_error, open_database
from session_tui.data.repositories.products import ProductsRepository

NEWER = "this database was written by a newer session-tui (schema 9999_future); upgrade the app"


def read_only_url(tmp_path: Path) -> str:
    path = tmp_path / "ro.db"
    open_database(str(path)).dispose()
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def test_read_only_message_has_no_empty_url(tmp_path: Path) -> None:
    db = open_database(read_only_url(tmp_path))
    try:
        with pytest.raises(Exception) as caught:
            ProductsRepository(db).add("Course")
    finally:
        db.dispose()
    # The TUI calls describe_error(exc) without a URL (the title shows it).
    message = describe_error(caught.value)
    assert message == "the database is read-only: nothing was written"
    assert not message.rstrip().endswith(":")


def test_read_only_cli_error_names_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = read_only_url(tmp_path)
    assert main(["products", "add", "Course", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err == f"session-tui: error: the database is read-only ({url}): nothing was written\n"


def _stamp_future(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))


def test_future_schema_says_upgrade_the_app(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _stamp_future(db)
    with pytest.raises(DatabaseError) as caught:
        open_database(db.url)
    assert str(caught.value) == NEWER
    for argv in (["products", "list"], ["--db", db.url]):
        code = main([*argv, "--db", db.url] if argv[0] != "--db" else argv)
        err = capsys.readouterr().err
        assert code == 1
        assert err == f"session-tui: error: {NEWER}\n"
    with db.engine.connect() as conn:  # nothing was changed
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "9999_future"
        )


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["export", "-", "--filter", "joined:>\x1b[2J"], "'\\x1b[2J' is not a date"),
        (["segments", "show", "a\u202eb\x9b"], None),
    ],
)
def test_cli_errors_show_control_characters_escaped(
    db: Database, argv: list[str], shown: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*argv, "--db", db.url])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("session-tui: error: ") and err.count("\n") == 1
    assert not any(ord(ch) < 32 and ch != "\n" for ch in err), repr(err)
    assert not any(0x7F <= ord(ch) <= 0x9F or ch == "\u202e" for ch in err), repr(err)
    if shown is not None:
        assert shown in err, err


def test_usage_errors_show_control_characters_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["products", "list", "\x1b]0;title\x07"])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert "unrecognized arguments: \\x1b]0;title\\x07" in err, err
    assert "\x1b" not in err and "\x07" not in err
