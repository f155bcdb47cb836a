"""`session-tui import` with memberships and column mapping: Ghost's member-import
shapes (tiers, complimentary plans), a Spanish-header file with --map, the
--create-products / --update-memberships flags, --dry-run, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from session_tui.cli import main
from session_tui.data.db import open_database
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def held(url: str) -> set[tuple[str, str, str]]:
    db = open_database(url)
    try:
        return {(m.email, m.product, m.payment_type) for m in MembershipsRepository(db).all()}
    finally:
        db.dispose()


def names(url: str) -> dict[str, tuple[str, str]]:
    db = open_database(url)
    c = contact_t.c
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(select(c.email, c.first_name, c.last_name)).all()
        return {email: (first, last) for email, first, last in rows}
    finally:
        db.dispose()


def add_products(url: str, *products: str) -> None:
    db = open_database(url)
    try:
        for name in products:
            ProductsRepository(db).add(name)
    finally:
        db.dispose()


def test_ghost_tiers_dry_run_lists_products_then_create_products_imports_them(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    add_products(sqlite_url, "Coaching Circle")
    tier_file = str(FIXTURES / "ghost-import-tier.csv")
    code, out, err = run(capsys, "import", tier_file, "--dry-run", "--db", sqlite_url)
    assert code == 0 and err == ""
    assert 'products <- "import_tier"' in out and 'ignored columns: "gift_id"' in out
    assert (
        "added 3 contacts · 1 membership granted · 1 membership skipped · 1 product to create"
        in out
    )
    assert 'products not found: "Inner Circle"' in out and "--create-products" in out
    assert "dry run: nothing was written" in out
    assert held(sqlite_url) == set()

    code, out, _ = run(
        capsys, "import", tier_file, "--create-products", "--json", "--db", sqlite_url
    )
    data = json.loads(out)
    assert code == 0
    assert {k: data[k] for k in ("added", "memberships_granted", "memberships_skipped")} == {
        "added": 3,
        "memberships_granted": 2,
        "memberships_skipped": 0,
    }
    assert data["products_to_create"] == ["Inner Circle"] and data["products_created"] == 1
    assert data["headline"] == "added 3 contacts · 2 memberships granted · 1 product created"
    assert data["mapping"] == {"email": "email", "products": "import_tier"}
    assert held(sqlite_url) == {
        ("ana.gomez@example.com", "Coaching Circle", "paid"),
        ("sam@example.net", "Inner Circle", "paid"),
    }


def test_ghost_complimentary_plans_become_comped_memberships(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    add_products(sqlite_url, "Inner Circle")
    rejects = tmp_path / "rejects.csv"
    code, out, _ = run(
        capsys,
        "import",
        str(FIXTURES / "ghost-complimentary.csv"),
        "--comp-product",
        "Inner Circle",
        "--rejects",
        str(rejects),
        "--db",
        sqlite_url,
    )
    assert code == 0
    assert 'complimentary plan (Ghost) <- "complimentary_plan"' in out
    assert "line 5: complimentary_plan must be true or false, not 'maybe'" in out
    assert "added 3 contacts · 2 memberships granted" in out
    assert held(sqlite_url) == {
        ("ana.gomez@example.com", "Inner Circle", "comped"),
        ("sam@example.net", "Inner Circle", "comped"),
    }
    assert "kai@example.net" in rejects.read_text(encoding="utf-8")


def test_ghost_members_file_imports_contacts(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    code, out, _ = run(capsys, "import", str(FIXTURES / "ghost-members.csv"), "--db", sqlite_url)
    assert code == 0
    assert "added 3 · skipped (already exist) 0 · duplicates in file 0 · invalid 1" in out
    assert "memberships granted" not in out  # the file names no membership
    assert names(sqlite_url)["ana.gomez@example.com"] == ("Ana", "Gómez")


def test_update_memberships_grants_to_existing_contacts(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    add_products(sqlite_url, "Coaching Circle", "Inner Circle")
    run(capsys, "import", str(FIXTURES / "ghost-members.csv"), "--db", sqlite_url)
    tier_file = str(FIXTURES / "ghost-import-tier.csv")
    code, out, _ = run(capsys, "import", tier_file, "--db", sqlite_url)
    assert code == 0 and "added 1 contact · 1 membership granted" in out
    assert "--update-memberships grants the file's to them too" in out
    assert held(sqlite_url) == {("sam@example.net", "Inner Circle", "paid")}

    code, out, _ = run(capsys, "import", tier_file, "--update-memberships", "--db", sqlite_url)
    assert code == 0
    assert "added 0 contacts · 1 membership granted · 1 unchanged" in out
    assert ("ana.gomez@example.com", "Coaching Circle", "paid") in held(sqlite_url)
    assert names(sqlite_url)["ana.gomez@example.com"] == ("Ana", "Gómez")


def test_spanish_headers_need_map_and_the_error_names_the_email_column(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    spanish = str(FIXTURES / "spanish.csv")
    code, out, err = run(capsys, "import", spanish, "--db", sqlite_url)
    assert code == 1 and out == ""
    assert (
        "no email column; `correo_electronico` looks like emails: "
        "--map email=correo_electronico" in err
    )
    code, out, err = run(
        capsys,
        "import",
        spanish,
        "--map",
        "email=correo_electronico",
        "--map",
        "name=nombre",
        "--db",
        sqlite_url,
    )
    assert code == 0 and err == ""
    assert 'email <- "correo_electronico"' in out and 'ignored columns: "note"' in out
    assert names(sqlite_url) == {
        "maria.lopez@example.es": ("María", "López"),
        "jose@example.es": ("José", ""),
        "carmen@example.es": ("Carmen", "de la Cruz"),
    }


def test_bad_map_options_are_refused_and_nothing_is_imported(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    spanish = str(FIXTURES / "spanish.csv")
    code, _, err = run(
        capsys, "import", spanish, "--map", "email=nope", "--db", sqlite_url, "--json"
    )
    assert code == 1 and "there is no column 'nope'" in json.loads(err)["error"]
    code, _, err = run(
        capsys,
        "import",
        spanish,
        "--map",
        "email=correo_electronico",
        "--map",
        "email=nombre",
        "--db",
        sqlite_url,
    )
    assert code == 1 and "maps two columns to email" in err
    assert names(sqlite_url) == {}


def test_platform_joined_dates_and_map_on_a_recognised_file(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    code, out, _ = run(capsys, "import", str(FIXTURES / "mailchimp-optin.csv"), "--db", sqlite_url)
    assert code == 0 and 'joined (created_at) <- "OPTIN_TIME"' in out
    code, out, _ = run(
        capsys,
        "import",
        str(FIXTURES / "kit-subscribers.csv"),
        "--map",
        "ignore=created_at",
        "--db",
        sqlite_url,
    )
    assert code == 0 and "created_at" not in out.split("ignored columns:")[0].split("columns:")[1]
    assert len(names(sqlite_url)) == 4
