"""`session-tui products …` and `session-tui memberships …` through cli.main."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from session_tui.cli import main
from session_tui.data.db import open_database
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.tables import Status

MEMBERSHIP_KEYS = {
    "email",
    "first_name",
    "last_name",
    "product",
    "payment_type",
    "status",
    "started_at",
    "expires_at",
    "cancelled_at",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_products_commands(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    db = ["--db", sqlite_url]
    assert run(capsys, "products", "add", "  Course ", *db)[0] == 0
    code, _, err = run(capsys, "products", "add", "COURSE", *db)
    assert code == 1
    assert err.strip() == "session-tui: error: a product named “Course” already exists"
    code, _, err = run(capsys, "products", "add", "", *db)
    assert code == 1 and "product name is empty" in err and "Traceback" not in err
    added = run_json(capsys, "products", "add", "Retreat", *db)
    assert added == {
        "name": "Retreat",
        "archived": False,
        "active_members": 0,
        "total_members": 0,
        "created_at": added["created_at"],  # type: ignore[index]
    }
    datetime.fromisoformat(added["created_at"])  # type: ignore[index]
    assert run_json(capsys, "products", "archive", "retreat", *db)["archived"] is True  # type: ignore[index]
    assert run(capsys, "products", "rename", "course", "Mindset Course", *db)[0] == 0
    listed = run_json(capsys, "products", "list", *db)
    assert [(p["name"], p["archived"]) for p in listed] == [  # type: ignore[union-attr,index]
        ("Mindset Course", False),
        ("Retreat", True),
    ]
    assert run_json(capsys, "products", "unarchive", "Retreat", *db)["archived"] is False  # type: ignore[index]
    code, out, _ = run(capsys, "products", "list", *db)
    assert out.splitlines()[0].split() == ["name", "active", "total", "archived"]
    code, _, err = run(capsys, "products", "rename", "Nope", "X", *db)
    assert code == 1 and "no product" in err


def test_memberships_add_list_extend_cancel(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    db = ["--db", db_url]
    run(capsys, "products", "add", "Course", *db)
    run(capsys, "products", "add", "1:1 Coaching", *db)
    m = run_json(
        capsys,
        "memberships",
        "add",
        "Ann@Example.com",
        "course",
        "--payment",
        "paid",
        "--started",
        "2024-01-01",
        "--expires",
        "2025-01-01",
        "--first-name",
        "Ann",
        *db,
    )
    assert set(m) == MEMBERSHIP_KEYS  # type: ignore[arg-type]
    assert m == {
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "",
        "product": "Course",
        "payment_type": "paid",
        "status": "expired",
        "started_at": "2024-01-01T00:00:00",
        "expires_at": "2025-01-01T00:00:00",
        "cancelled_at": None,
    }
    code, out, _ = run(
        capsys,
        "memberships",
        "add",
        "bob@example.com",
        "1:1 Coaching",
        "--payment",
        "comped",
        *db,
    )
    assert code == 0 and "new contact" in out
    listed = run_json(capsys, "memberships", "list", *db)
    assert [(r["email"], r["product"], r["status"]) for r in listed] == [  # type: ignore[union-attr,index]
        ("ann@example.com", "Course", "expired"),
        ("bob@example.com", "1:1 Coaching", "active"),
    ]
    assert len(run_json(capsys, "memberships", "list", "--email", "ANN@example.com", *db)) == 1  # type: ignore[arg-type]
    assert len(run_json(capsys, "memberships", "list", "--product", "1:1 coaching", *db)) == 1  # type: ignore[arg-type]
    assert len(run_json(capsys, "memberships", "list", "--status", "active", *db)) == 1  # type: ignore[arg-type]

    ext = run_json(
        capsys, "memberships", "extend", "ann@example.com", "Course", "--expires", "2099-06-30", *db
    )
    assert ext["expires_at"] == "2099-06-30T00:00:00" and ext["status"] == "active"  # type: ignore[index]
    can = run_json(capsys, "memberships", "cancel", "ann@example.com", "Course", *db)
    assert can["status"] == "expired" and can["cancelled_at"] is not None  # type: ignore[index]
    code, _, err = run(capsys, "memberships", "cancel", "ann@example.com", "Course", *db)
    assert code == 1 and "already cancelled" in err
    again = run_json(
        capsys, "memberships", "add", "ann@example.com", "Course", "--payment", "free", *db
    )
    assert again["status"] == "active" and again["cancelled_at"] is None  # type: ignore[index]

    database = open_database(db_url)
    try:
        repo = MembershipsRepository(database)
        contact = ContactsRepository(database).get_by_email("ann@example.com")
        assert contact is not None and contact.status is Status.ACTIVE
        kinds = [str(e.kind) for e in repo.history(contact.id)]
        assert kinds == ["reactivated", "cancelled", "extended", "expired", "granted"]
    finally:
        database.dispose()


def test_memberships_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    db = ["--db", sqlite_url]
    run(capsys, "products", "add", "Course", *db)
    run(capsys, "products", "add", "Old", *db)
    run(capsys, "products", "archive", "Old", *db)
    cases = [
        (
            ["add", "ann@example.com", "Course", "--payment", "paid", "--expires", "31/12/2026"],
            "--expires: '31/12/2026' is not a date; use YYYY-MM-DD",
        ),
        (["add", "not-an-email", "Course", "--payment", "paid"], "email"),
        (["add", "ann@example.com", "Nope", "--payment", "paid"], "no product"),
        (["add", "ann@example.com", "Old", "--payment", "paid"], "archived"),
        (["cancel", "ann@example.com", "Course"], "no contact ann@example.com"),
        (["extend", "ann@example.com", "Course", "--expires", "2026-02-30"], "not a date"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, "memberships", *argv, *db)
        assert code == 1, argv
        assert message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("session-tui: error:")


def test_memberships_payment_and_extend_never(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    db = ["--db", sqlite_url]
    run(capsys, "products", "add", "Course", *db)
    run(
        capsys,
        "memberships",
        "add",
        "ann@example.com",
        "Course",
        "--payment",
        "paid",
        "--expires",
        "2099-01-01",
        *db,
    )
    changed = run_json(
        capsys, "memberships", "payment", "ann@example.com", "Course", "--payment", "comped", *db
    )
    assert changed["payment_type"] == "comped"  # type: ignore[index]
    never = run_json(
        capsys, "memberships", "extend", "ann@example.com", "Course", "--expires", "never", *db
    )
    assert never["expires_at"] is None  # type: ignore[index]
    code, out, _ = run(capsys, "memberships", "list", *db)
    header, row = out.splitlines()
    assert header.split() == [
        "email",
        "name",
        "product",
        "payment",
        "status",
        "started",
        "expires",
        "cancelled",
    ]
    parts = row.split()  # the name column is empty
    assert parts[:4] == ["ann@example.com", "Course", "comped", "active"]
    assert parts[-1] == "never"
