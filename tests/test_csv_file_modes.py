"""Exported CSV files and rejects files hold names and emails: a new file is 0600
whatever the umask; a file that is replaced keeps the mode its owner gave it; the
write stays atomic (a unique temporary `.X.*.part`, renamed when complete). `-` is stdout."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_tui.cli import main
from session_tui.data.csvio import ImportCancelled, import_csv, sniff, write_rejects
from session_tui.data.csvio.exporter import ExportCancelled, export_csv
from session_tui.data.db import Database, open_database
from tests.helpers import add_contacts

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o002], ids=["umask0", "umask022", "umask002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.fixture
def sdb(sqlite_url: str) -> Iterator[Database]:
    db = open_database(sqlite_url)
    add_contacts(db, [("a@example.com", "Ann", "Lee"), ("b@example.com", "Bo", "Ek")])
    try:
        yield db
    finally:
        db.dispose()


def test_a_new_export_is_private_whatever_the_umask(
    sdb: Database, tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "contacts.csv"
    assert export_csv(sdb, target) == 2
    assert mode(target) == 0o600
    assert "a@example.com" in target.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("existing", [0o644, 0o640, 0o600, 0o400], ids=oct)
def test_an_overwritten_export_keeps_the_files_mode(
    sdb: Database, tmp_path: Path, umask: int, existing: int
) -> None:
    target = tmp_path / "contacts.csv"
    target.write_text("old\n", encoding="utf-8")
    os.chmod(target, existing)
    assert export_csv(sdb, target) == 2
    assert mode(target) == existing
    assert target.read_text(encoding="utf-8").startswith("email,first_name,")


def test_a_leftover_part_file_does_not_lend_its_mode(
    sdb: Database, tmp_path: Path, umask: int
) -> None:
    """A file named like an old temporary name (`X.part`, 0644) is neither reused nor
    deleted: it may be the user's own file (issue 13, item 6)."""
    target = tmp_path / "contacts.csv"
    stale = tmp_path / "contacts.csv.part"
    stale.write_text("half a file", encoding="utf-8")
    os.chmod(stale, 0o644)
    export_csv(sdb, target)
    assert mode(target) == 0o600
    assert stale.read_text(encoding="utf-8") == "half a file" and mode(stale) == 0o644
    assert "half a file" not in target.read_text(encoding="utf-8")


def test_a_cancelled_export_leaves_the_existing_file_and_its_mode(
    sdb: Database, tmp_path: Path
) -> None:
    target = tmp_path / "contacts.csv"
    target.write_text("keep me\n", encoding="utf-8")
    os.chmod(target, 0o644)
    with pytest.raises(ExportCancelled):
        export_csv(sdb, target, cancel=lambda: True)
    assert target.read_text(encoding="utf-8") == "keep me\n"
    assert mode(target) == 0o644
    assert not list(tmp_path.glob("*.part"))


def test_cli_export_to_a_file_is_private_and_stdout_is_unchanged(
    sqlite_url: str,
    sdb: Database,
    tmp_path: Path,
    umask: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "out.csv"
    assert main(["export", str(target), "--db", sqlite_url]) == 0
    assert mode(target) == 0o600
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    assert main(["export", "-", "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("email,first_name,") and "b@example.com" in out
    assert not (tmp_path / "-").exists() and not (tmp_path / "-.part").exists()


def test_a_new_rejects_file_is_private(sdb: Database, tmp_path: Path, umask: int) -> None:
    rejects = tmp_path / "rejects.csv"
    report = import_csv(sdb, FIXTURES / "verdicts.csv", rejects=rejects)
    assert report.invalid > 0
    assert mode(rejects) == 0o600
    again = tmp_path / "again.csv"
    assert write_rejects(sniff(FIXTURES / "verdicts.csv"), again) == report.invalid
    assert mode(again) == 0o600
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("existing", [0o644, 0o660], ids=oct)
def test_an_overwritten_rejects_file_keeps_its_mode(
    sdb: Database, tmp_path: Path, umask: int, existing: int
) -> None:
    for name, write in (
        ("import.csv", lambda p: import_csv(sdb, FIXTURES / "verdicts.csv", rejects=p)),
        ("tui.csv", lambda p: write_rejects(sniff(FIXTURES / "verdicts.csv"), p)),
    ):
        rejects = tmp_path / name
        rejects.write_text("old\n", encoding="utf-8")
        os.chmod(rejects, existing)
        write(rejects)
        assert mode(rejects) == existing, name
        assert "reason" in rejects.read_text(encoding="utf-8").splitlines()[0], name


def test_a_cancelled_rejects_write_leaves_the_existing_file(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("email,name\n" + "".join(f"not-an-email-{i},X\n" for i in range(1500)))
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("keep me\n", encoding="utf-8")
    os.chmod(rejects, 0o640)
    with pytest.raises(ImportCancelled):
        write_rejects(sniff(source), rejects, cancel=lambda: True)
    assert rejects.read_text(encoding="utf-8") == "keep me\n" and mode(rejects) == 0o640
    assert not list(tmp_path.glob("*.part"))
