"""Segments: the repository on SQLite and PostgreSQL, and `session-tui segments …`."""

from __future__ import annotations

import json

import pytest

from session_tui.cli import main
from session_tui.data.db import Database
from session_tui.data.filters import FilterSyntaxError, Group, Mode, parse
from session_tui.data.repositories.segments import (
    SegmentError,
    SegmentExists,
    SegmentNotFound,
    SegmentsRepository,
    resolve_filter,
)
from tests.helpers import add_contacts, add_membership, add_product

VIP = 'product:"1:1 Coaching" and (status:active or payment:comped)'


def test_save_get_list_rename_delete(db: Database) -> None:
    repo = SegmentsRepository(db)
    saved = repo.save("VIP", parse(VIP))
    assert saved.name == "VIP" and saved.text == VIP
    assert repo.get("vip") == saved  # ignoring case
    repo.save("  Lapsed   members ", parse("status:expired"))
    assert repo.names() == ["Lapsed members", "VIP"]

    with pytest.raises(SegmentExists, match="already exists"):
        repo.save("vIp", parse("status:none"))
    replaced = repo.save("vip", parse("status:none"), overwrite=True)
    assert (replaced.id, replaced.name, replaced.text) == (saved.id, "vip", "status:none")
    assert replaced.created_at == saved.created_at

    with pytest.raises(SegmentExists):
        repo.rename("vip", "LAPSED MEMBERS")
    renamed = repo.rename("VIP", "Gold")
    assert renamed.id == saved.id and repo.get("vip") is None
    assert repo.rename("gold", "GOLD").name == "GOLD"  # a change of case only

    with pytest.raises(SegmentNotFound):
        repo.delete("nope")
    assert repo.delete("gold").name == "GOLD"
    assert repo.names() == ["Lapsed members"]


def test_names_are_checked(db: Database) -> None:
    repo = SegmentsRepository(db)
    with pytest.raises(SegmentError, match="empty"):
        repo.save("  \x1b ", parse("status:active"))
    with pytest.raises(SegmentError, match="longer than 200"):
        repo.save("x" * 201, parse("status:active"))
    row = repo.save("[bold]Loud\x1b[31m", parse("status:active"))
    assert row.name == "[bold]Loud[31m"  # controls removed, markup kept as plain text


def test_segment_restores_the_exact_tree(db: Database) -> None:
    """Not normalised: a panel's one-row group comes back as a one-row group."""
    repo = SegmentsRepository(db)
    tree = Group(Mode.OR, (Group(Mode.AND, parse("status:active").items),))
    assert repo.save("odd", tree).filter == tree


def test_unreadable_stored_filter_is_reported_not_raised(db: Database) -> None:
    from sqlalchemy import update

    from session_tui.data.tables import segment_t

    repo = SegmentsRepository(db)
    repo.save("broken", parse("status:active"))
    with db.engine.begin() as conn:
        conn.execute(update(segment_t).values(filter="{not json"))
    (row,) = repo.all()
    assert row.filter is None and "not valid JSON" in row.problem
    with pytest.raises(SegmentError, match="cannot be read"):
        resolve_filter(db, segment="broken")


def test_resolve_filter(db: Database) -> None:
    SegmentsRepository(db).save("Active", parse("status:active"))
    assert resolve_filter(db) is None
    assert resolve_filter(db, filter_text="status:none") == parse("status:none")
    assert resolve_filter(db, segment="ACTIVE") == parse("status:active")
    with pytest.raises(SegmentError, match="either"):
        resolve_filter(db, "status:none", "Active")
    with pytest.raises(SegmentNotFound):
        resolve_filter(db, segment="missing")
    with pytest.raises(FilterSyntaxError) as info:
        resolve_filter(db, filter_text="status:")
    assert info.value.column == 8


# -- CLI -------------------------------------------------------------------------------
def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_segments(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, sqlite_db: Database
) -> None:
    db = sqlite_url
    coaching = add_product(sqlite_db, "1:1 Coaching")
    ann, bob = add_contacts(sqlite_db, [("ann@x.org", "Ann", "A"), ("bob@x.org", "Bob", "B")])
    add_membership(sqlite_db, ann, coaching, "comped")

    code, out, err = run(capsys, "segments", "list", "--db", db)
    assert code == 0 and "no segments" in out

    code, out, err = run(capsys, "segments", "save", "VIP", "--filter", VIP, "--db", db)
    assert code == 0 and "saved segment “VIP”" in out and err == ""

    code, out, err = run(capsys, "segments", "save", "vip", "--filter", "status:none", "--db", db)
    assert code == 1 and out == ""
    assert err.strip() == (
        "session-tui: error: a segment named “VIP” already exists; use --force to replace it"
    )

    code, out, err = run(capsys, "segments", "save", "x", "--filter", "status:nope", "--db", db)
    assert code == 1 and err.startswith("session-tui: error: --filter: column 8: ")
    assert len(err.strip().splitlines()) == 1

    code, out, err = run(
        capsys, "segments", "save", "Ghost", "--filter", "product:Ghost", "--db", db
    )
    assert code == 0 and "no product named “Ghost”" in err

    code, out, _ = run(capsys, "segments", "show", "vip", "--json", "--db", db)
    shown = json.loads(out)
    assert shown["name"] == "VIP" and shown["filter"] == VIP and shown["count"] == 1
    assert shown["tree"]["mode"] == "and"

    code, out, _ = run(capsys, "segments", "show", "VIP", "--db", db)
    assert "matches: 1 contacts" in out

    code, out, _ = run(capsys, "segments", "list", "--json", "--db", db)
    assert [s["name"] for s in json.loads(out)] == ["Ghost", "VIP"]

    assert run(capsys, "segments", "rename", "VIP", "Gold", "--db", db)[0] == 0
    code, _, err = run(capsys, "segments", "rename", "Gold", "ghost", "--db", db)
    assert code == 1 and "already exists" in err
    code, out, _ = run(capsys, "segments", "delete", "GOLD", "--json", "--db", db)
    assert json.loads(out)["name"] == "Gold"
    code, _, err = run(capsys, "segments", "delete", "Gold", "--db", db)
    assert code == 1 and err.strip() == "session-tui: error: no segment named “Gold”"
    code, out, _ = run(capsys, "segments", "list", "--db", db)
    assert "Ghost" in out and "Gold" not in out
    assert bob  # (bob has no membership: not counted by VIP)


def _connections_left(url: str) -> int:
    """Connections to the database at `url` still open: SQLite keeps its `-wal` file
    while any connection is open (the last one to close checkpoints and removes it);
    PostgreSQL lists every session in pg_stat_activity."""
    from pathlib import Path

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        return int(Path(f"{make_url(url).database}-wal").exists())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "argv",
    [
        ["list"],
        ["save", "Gold", "--filter", VIP],
        ["show", "VIP"],
        ["show", "Ghost"],  # an error: closed all the same
        ["rename", "VIP", "Gold"],
        ["delete", "VIP"],
    ],
)
def test_cli_segments_close_the_database(
    capsys: pytest.CaptureFixture[str], db_url: str, argv: list[str]
) -> None:
    """Every `segments` command closes its connections when it ends, like the other
    commands (the garbage collector is off meanwhile: nothing closes them by chance)."""
    import gc

    from session_tui.data.db import open_database

    setup = open_database(db_url)
    SegmentsRepository(setup).save("VIP", parse(VIP))
    setup.dispose()
    assert _connections_left(db_url) == 0
    gc.collect()
    gc.disable()
    try:
        code, _, _ = run(capsys, "segments", *argv, "--db", db_url)
        left = _connections_left(db_url)
    finally:
        gc.enable()
    assert code == (1 if "Ghost" in argv else 0)
    assert left == 0
