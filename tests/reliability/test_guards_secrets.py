"""Issue 13, item 10: credentials in database URLs are never printed.

One function (session_tui/data/redact.py `mask_secrets`) masks the userinfo
password (also one holding "@"), and the `password` / `passfile` query parameters.
Each form is checked against CLI errors (plain and --json), the TUI title and the
backup header's `database` field.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from session_tui.cli import main
from session_tui.data.db import open_database, resolve_url
from session_tui.data.deletion import delete_contacts
from session_tui.data.redact import mask_secrets, printable
from session_tui.ui.app import make_app
from tests.helpers import add_contacts
from tests.reliability.helpers import capture

SECRET = "s3cret"
# An unreachable server (connection refused at once): every form fails to connect.
DOWN = "127.0.0.1:1"
FORMS = {
    "userinfo": f"postgresql://u:{SECRET}@{DOWN}/db",
    "userinfo-with-at": f"postgresql://u:{SECRET}@part2@{DOWN}/db",
    "userinfo-with-slash": f"postgresql://u:{SECRET}/x@{DOWN}/db",
    "query-password": f"postgresql://u@{DOWN}/db?password={SECRET}",
    "query-passfile": f"postgresql://u@{DOWN}/db?sslmode=disable&passfile=/tmp/{SECRET}",
}


def leaked(text: str) -> bool:
    return SECRET in text or "part2" in text or "x@" in text


@pytest.mark.parametrize("url", FORMS.values(), ids=FORMS.keys())
def test_mask_secrets_every_form(url: str) -> None:
    for text in (url, resolve_url(url), f"cannot reach the server ({url}): refused"):
        masked = mask_secrets(text)
        assert not leaked(masked), masked
        assert "***" in masked
        assert f"{DOWN}/db" in masked  # the rest stays readable


def test_mask_secrets_leaves_other_text_alone() -> None:
    for text in (
        "postgresql://u@h:5432/db",
        "postgresql://h/db?sslmode=require",
        "sqlite:////home/u/session-tui.db",
        "a@b.example is not a URL",
        "",
    ):
        assert mask_secrets(text) == text
    assert mask_secrets("host=h password=s3cret user=u") == "host=h password=*** user=u"


def test_a_password_with_at_connects_and_is_not_split() -> None:
    # Before: the URL parser cut the password at its first "@" and tried host
    # "part2@127.0.0.1", naming the rest of the password in its error.
    url = resolve_url(f"postgresql://u:{SECRET}@part2@{DOWN}/db")
    parsed = make_url(url)
    assert parsed.password == f"{SECRET}@part2"
    assert parsed.host == "127.0.0.1"


@pytest.mark.parametrize("url", FORMS.values(), ids=FORMS.keys())
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_cli_errors_do_not_print_the_password(
    url: str, json_flag: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["products", "list", "--db", url, *json_flag])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("session-tui: error: ")
    assert not leaked(out + err), err
    assert "***" in err


def _pg_forms(pg_url: str) -> dict[str, str]:
    """The same forms against a real server (trust auth: any password is accepted)."""
    u = make_url(pg_url)
    where = f"{u.host}:{u.port or 5432}/{u.database}"
    user = u.username or "postgres"
    return {
        "userinfo": f"postgresql://{user}:{SECRET}@{where}",
        "userinfo-with-at": f"postgresql://{user}:{SECRET}@part2@{where}",
        "query-password": f"postgresql://{user}@{where}?password={SECRET}",
        "query-passfile": f"postgresql://{user}@{where}?passfile=/nonexistent/{SECRET}",
    }


async def test_title_json_and_backup_header_do_not_show_the_password(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, url in _pg_forms(pg_url).items():
        db = open_database(url)
        try:
            assert db.engine.url.password in (None, SECRET, f"{SECRET}@part2"), name
            [cid] = add_contacts(db, [(f"{name}@example.org", "Ann", "Lee")])
            # --json output of a command on this database
            assert main(["products", "list", "--db", url, "--json"]) == 0
            out, err = capsys.readouterr()
            assert json.loads(out) == [] and not leaked(out + err)
            # the backup header
            result = delete_contacts(db, [cid], backups_dir=tmp_path / name)
            with gzip.open(result.backup_path, "rt", encoding="utf-8") as fh:
                header = json.loads(fh.readline())
            assert not leaked(header["database"]), header
            assert "***" in header["database"]
            # the TUI title, as drawn
            app = make_app(db=db)
            assert not leaked(str(app.sub_title)) and "***" in str(app.sub_title)
            if name == "userinfo-with-at":
                async with app.run_test(size=(200, 24)) as pilot:
                    await pilot.pause()
                    screen = capture(app).text
                    assert "***" in screen and not leaked(screen)
        finally:
            db.dispose()


def test_printable_escapes_controls_and_masks() -> None:
    assert printable("a\x1b[2Jb\u202ec\n") == "a\\x1b[2Jb\\u202ec\\x0a"
    assert printable(f"postgresql://u:{SECRET}@h/db") == "postgresql://u:***@h/db"
