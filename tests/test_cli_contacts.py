"""`session-tui contacts list | show | edit | delete`."""

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
from session_tui.data.db import open_database
from session_tui.data.deletion import inspect_backup
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.data.repositories.memberships import MembershipsRepository
from tests.helpers import add_contacts, add_membership, add_product


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seeded(db_url: str) -> Any:
    db = open_database(db_url)
    ids = add_contacts(
        db,
        [
            ("ann@example.org", "Ann", "Lee"),
            ("bob@example.org", "[bold]Bob", "\x1b[31mRed"),
            ("cy@other.net", "Cy", "Moss"),
        ],
    )
    course = add_product(db, "Course")
    coaching = add_product(db, "Coaching")
    add_membership(db, ids[0], course, "paid")
    add_membership(db, ids[0], coaching, "comped", expires=datetime(2020, 1, 1))
    MembershipsRepository(db).extend(MembershipsRepository(db).for_contact(ids[0])[0].id, None)
    yield db, ids
    db.dispose()


def test_list_filter_limit_json(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    code, out, _ = run(capsys, "contacts", "list", "--json", "--db", db_url)
    rows = json.loads(out)
    assert code == 0 and [r["email"] for r in rows] == [
        "ann@example.org",
        "bob@example.org",
        "cy@other.net",
    ]
    assert rows[0]["products"] == "Coaching; Course" and rows[0]["payment_types"] == "comped; paid"
    assert set(rows[0]) == {
        "email",
        "first_name",
        "last_name",
        "status",
        "products",
        "payment_types",
        "created_at",
    }
    assert rows[1]["last_name"] == "\x1b[31mRed"  # JSON is exact
    code, out, _ = run(
        capsys,
        "contacts",
        "list",
        "--filter",
        "domain:example.org",
        "--limit",
        "1",
        "--json",
        "--db",
        db_url,
    )
    assert [r["email"] for r in json.loads(out)] == ["ann@example.org"]
    code, out, _ = run(capsys, "contacts", "list", "--db", db_url)
    assert code == 0 and "\x1b" not in out and "[bold]Bob" in out
    code, _, err = run(capsys, "contacts", "list", "--filter", "product:(", "--db", db_url)
    assert code == 1 and "--filter" in err


def test_show_memberships_and_history(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    code, out, _ = run(capsys, "contacts", "show", "ANN@example.org", "--json", "--db", db_url)
    data = json.loads(out)
    assert code == 0 and data["email"] == "ann@example.org"
    assert [m["product"] for m in data["memberships"]] == ["Coaching", "Course"]
    assert data["history"][0]["kind"] == "extended"
    code, out, _ = run(capsys, "contacts", "show", "ann@example.org", "--db", db_url)
    assert "Ann Lee <ann@example.org>" in out and "extended" in out
    code, _, err = run(capsys, "contacts", "show", "zed@example.org", "--db", db_url)
    assert code == 1 and err.strip() == "session-tui: error: there is no contact zed@example.org"


def test_edit_validates_and_saves(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    db, ids = seeded
    code, _, err = run(
        capsys, "contacts", "edit", "ann@example.org", "--email", "BOB@example.org", "--db", db_url
    )
    assert code == 1 and "another contact already has this email" in err
    code, _, err = run(
        capsys, "contacts", "edit", "ann@example.org", "--first", "x" * 201, "--db", db_url
    )
    assert code == 1 and "longer than 200" in err
    assert ContactsRepository(db).get(ids[0]).email == "ann@example.org"  # type: ignore[union-attr]
    code, out, _ = run(
        capsys,
        "contacts",
        "edit",
        "ann@example.org",
        "--email",
        " Ann@New.org ",
        "--last",
        "Smith",
        "--json",
        "--db",
        db_url,
    )
    saved = json.loads(out)
    assert code == 0 and (saved["email"], saved["last_name"], saved["version"]) == (
        "ann@new.org",
        "Smith",
        2,
    )
    code, _, err = run(capsys, "contacts", "edit", "ann@new.org", "--db", db_url)
    assert code == 2 and "nothing to change" in err


def test_delete_dry_run_yes_json_and_backup(
    capsys: pytest.CaptureFixture[str], seeded: Any, db_url: str
) -> None:
    db, _ids = seeded
    argv = ["contacts", "delete", "--filter", "domain:example.org", "--db", db_url]
    code, out, _ = run(capsys, *argv, "--dry-run")
    assert code == 0 and out.splitlines() == [
        "Delete 2 contacts with their memberships and history (ann@example.org, "
        "bob@example.org); a backup file is written first",
        "dry run: nothing was deleted",
    ]
    code, _, err = run(capsys, *argv)
    assert code == 1 and "add --yes" in err
    assert ContactsRepository(db).total() == 3
    code, out, _ = run(capsys, *argv, "--yes", "--json")
    data = json.loads(out)
    assert code == 0 and data["deleted"]["contacts"] == 2 and data["deleted"]["memberships"] == 2
    info = inspect_backup(data["deleted"]["backup"])
    assert info.contacts == 2 and sorted(info.emails) == ["ann@example.org", "bob@example.org"]
    assert ContactsRepository(db).total() == 1
    # one EMAIL: no --yes needed; unknown ones are noted
    code, out, err = run(
        capsys, "contacts", "delete", "cy@other.net", "nobody@x.org", "--db", db_url
    )
    assert code == 0 and "deleted 1 contacts" in out and "nobody@x.org" in err
    assert ContactsRepository(db).total() == 0


def test_delete_refuses_without_terminal_in_child(seeded: Any, db_url: str, tmp_path: Path) -> None:
    db, _ids = seeded
    env = {**os.environ, "SESSION_TUI_DATA_DIR": str(tmp_path)}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "session_tui",
            "contacts",
            "delete",
            "ann@example.org",
            "cy@other.net",
            "--db",
            db_url,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "add --yes to go ahead: it touches 2 contacts" in res.stderr
    assert ContactsRepository(db).total() == 3


def test_every_contacts_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("list", "show", "edit", "delete"):
        with pytest.raises(SystemExit):
            main(["contacts", action, "--help"])
        assert "examples:\n  session-tui contacts " + action in capsys.readouterr().out
