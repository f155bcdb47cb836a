"""Issue 13, the file items: where export and rejects files may go (item 1), files
that are not regular files and symbolic links (item 6), the preview pinned to the
file's content (item 8). Every test failed before the fix; those that touch the
database run on SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from session_tui import locations
from session_tui.cli import main
from session_tui.data.csvio import CsvFormatError, import_csv, sniff, write_rejects
from session_tui.data.csvio.exporter import ExportError, export_csv
from session_tui.data.csvio.inputs import CHANGED
from session_tui.data.db import Database, open_database
from session_tui.data.tables import contact_t
from tests.helpers import add_contacts

PEOPLE = [("a@example.com", "Ann", "Lee"), ("b@example.com", "Bo", "Ek")]


def emails(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(select(contact_t.c.email)).scalars())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seeded(db: Database) -> Database:
    add_contacts(db, PEOPLE)
    return db


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "live.db"
    db = open_database(str(path))
    add_contacts(db, PEOPLE)
    try:
        yield db, path
    finally:
        db.dispose()


def write_csv(path: Path, rows: int, start: int = 0) -> Path:
    path.write_text(
        "email,first_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(start, rows)),
        encoding="utf-8",
    )
    return path


# -- item 1: never onto the database, its sidecars, a backup or the input -----------


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_export_refuses_the_open_database_and_its_sidecar_files(
    sqlite_file: tuple[Database, Path], suffix: str
) -> None:
    db, path = sqlite_file
    target = Path(str(path) + suffix)
    before = target.read_bytes() if target.exists() else None
    with pytest.raises(ExportError, match="open database"):
        export_csv(db, target)
    assert (target.read_bytes() if target.exists() else None) == before
    assert emails(db) == {"a@example.com", "b@example.com"}


def test_export_refuses_the_database_through_a_relative_path_a_symlink_or_a_hard_link(
    sqlite_file: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = sqlite_file
    monkeypatch.chdir(path.parent)
    sub = path.parent / "sub"
    sub.mkdir()
    (path.parent / "link.db").symlink_to(path)
    os.link(path, path.parent / "hard.db")
    for target in ("live.db", "sub/../live.db", "./live.db-wal"):
        with pytest.raises(ExportError, match="open database"):
            export_csv(db, target)
    with pytest.raises(ExportError, match="open database"):
        export_csv(db, "link.db", follow_symlinks=True)
    with pytest.raises(ExportError, match="open database"):
        export_csv(db, "hard.db")
    assert emails(db) == {"a@example.com", "b@example.com"}


def test_cli_export_onto_the_live_database_fails_and_the_database_survives(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "in.csv", 3)
    assert run(capsys, "--db", "live.db", "import", "in.csv")[0] == 0
    code, out, err = run(capsys, "--db", "live.db", "export", "live.db")
    assert code == 1 and "live.db is the open database" in err and "nothing was exported" in err
    assert (tmp_path / "live.db").read_bytes().startswith(b"SQLite format 3\x00")
    db = open_database(str(tmp_path / "live.db"))
    try:
        assert emails(db) == {"p0@example.com", "p1@example.com", "p2@example.com"}
    finally:
        db.dispose()


def test_cli_rejects_onto_the_live_database_fails_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "in.csv", 3)
    (tmp_path / "bad.csv").write_text("email\nnot-an-email\nz@example.com\n", encoding="utf-8")
    assert run(capsys, "--db", "live.db", "import", "in.csv")[0] == 0
    code, _, err = run(capsys, "--db", "live.db", "import", "bad.csv", "--rejects", "live.db")
    assert code == 1 and "open database" in err and "nothing was imported" in err
    db = open_database(str(tmp_path / "live.db"))
    try:
        assert emails(db) == {"p0@example.com", "p1@example.com", "p2@example.com"}
    finally:
        db.dispose()


def test_rejects_never_replace_the_input(seeded: Database, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email\nnot-an-email\nz@example.com\n", encoding="utf-8")
    before = source.read_bytes()
    with pytest.raises(CsvFormatError, match="the file being imported"):
        import_csv(seeded, source, rejects=source)
    assert source.read_bytes() == before
    assert "z@example.com" not in emails(seeded)  # refused before anything was written
    layout = sniff(source)
    with pytest.raises(CsvFormatError, match="the file being imported"):
        write_rejects(layout, tmp_path / "." / "in.csv", db_url=seeded.url)
    assert source.read_bytes() == before


def test_cli_rejects_onto_the_input_fails(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email\nnot-an-email\nz@example.com\n", encoding="utf-8")
    before = source.read_bytes()
    code, _, err = run(capsys, "--db", db_url, "import", str(source), "--rejects", str(source))
    assert code == 1 and "the file being imported" in err
    assert source.read_bytes() == before


def test_nothing_is_written_into_the_backups_folder(seeded: Database, tmp_path: Path) -> None:
    backups = locations.backups_dir()
    backup = backups / "deletion-1.json"
    backup.write_text('{"kept": true}', encoding="utf-8")
    outside = tmp_path / "hardlink.json"
    os.link(backup, outside)
    for target in (backup, backups / "new.csv", outside):
        with pytest.raises(ExportError, match="backups folder"):
            export_csv(seeded, target)
    source = write_csv(tmp_path / "in.csv", 2)
    with pytest.raises(CsvFormatError, match="backups folder"):
        import_csv(seeded, source, rejects=backup)
    assert backup.read_text(encoding="utf-8") == '{"kept": true}'
    assert sorted(p.name for p in backups.iterdir()) == ["deletion-1.json"]


# -- item 6: devices, FIFOs, sockets, symbolic links, temporary names ----------------


def test_export_to_dev_null_streams_into_the_device(seeded: Database) -> None:
    assert export_csv(seeded, "/dev/null") == 2
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_export_to_a_fifo_with_a_reader_gives_the_reader_the_csv(
    seeded: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert export_csv(seeded, fifo) == 2
    reader.join()
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO, not a renamed file
    text = got[0].decode("utf-8")
    assert text.startswith("email,first_name,") and "b@example.com,Bo,Ek" in text
    assert sorted(p.name for p in folder.iterdir()) == ["pipe"]


def test_a_fifo_nobody_reads_is_refused_when_waiting_is_not_allowed(
    seeded: Database, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="no program is reading"):
        export_csv(seeded, fifo, wait_for_reader=False)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_socket_is_refused(
    seeded: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # AF_UNIX paths are short
    server = socket.socket(socket.AF_UNIX)
    server.bind("sock")
    try:
        with pytest.raises(ExportError, match="is a socket"):
            export_csv(seeded, "sock")
        assert stat.S_ISSOCK(os.stat("sock").st_mode)
    finally:
        server.close()


def test_a_symlink_is_refused_unless_followed(seeded: Database, tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    os.chmod(real, 0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(ExportError, match="symbolic link"):
        export_csv(seeded, link)
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "old\n"
    assert export_csv(seeded, link, follow_symlinks=True) == 2
    assert link.is_symlink() and os.readlink(link) == str(real)  # the link is kept
    assert real.read_text(encoding="utf-8").startswith("email,")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600  # the file's own mode, not 0644


def test_cli_refuses_a_symlink_target_unless_follow_symlinks(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, _, err = run(capsys, "--db", db_url, "export", str(link))
    assert code == 1 and "symbolic link" in err
    assert real.read_text(encoding="utf-8") == "old\n"
    code, out, _ = run(capsys, "--db", db_url, "export", str(link), "--follow-symlinks")
    assert code == 0 and link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith("email,")


def test_temporary_names_are_unique_and_a_failed_export_leaves_nothing(
    seeded: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    mine = folder / "out.csv.part"
    mine.write_text("my notes", encoding="utf-8")

    def fail() -> bool:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        export_csv(seeded, folder / "out.csv", cancel=fail)
    assert sorted(p.name for p in folder.iterdir()) == ["out.csv.part"]
    assert mine.read_text(encoding="utf-8") == "my notes"


# -- item 8: the import writes what the preview showed --------------------------------


def test_a_file_rewritten_after_the_preview_is_refused(db: Database, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "f.csv", 2)
    layout = sniff(source)
    preview = import_csv(db, layout, dry_run=True)
    assert preview.added == 2
    write_csv(source, 1000)
    with pytest.raises(CsvFormatError, match=CHANGED):
        import_csv(db, layout)
    assert emails(db) == set()


def test_same_size_and_mtime_but_other_bytes_is_refused_by_the_hash(
    db: Database, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "f.csv", 20)
    layout = sniff(source)
    st = source.stat()
    data = source.read_bytes().replace(b"p19@", b"q19@")
    source.write_bytes(data)
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert source.stat().st_size == st.st_size
    with pytest.raises(CsvFormatError, match=CHANGED):
        import_csv(db, layout)
    assert emails(db) == set()


def test_cli_dry_run_prints_the_hash_and_expect_hash_pins_the_bytes(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "f.csv", 2)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    code, out, _ = run(capsys, "--db", db_url, "import", str(source), "--dry-run")
    assert code == 0 and f"sha256: {digest}" in out
    code, out, _ = run(capsys, "--db", db_url, "--json", "import", str(source), "--dry-run")
    assert code == 0 and json.loads(out)["sha256"] == digest
    write_csv(source, 5)
    code, _, err = run(capsys, "--db", db_url, "import", str(source), "--expect-hash", digest)
    assert code == 1 and CHANGED in err and "nothing was imported" in err
    db = open_database(db_url)
    try:
        assert emails(db) == set()
    finally:
        db.dispose()
    new = hashlib.sha256(source.read_bytes()).hexdigest()
    code, out, _ = run(capsys, "--db", db_url, "import", str(source), "--expect-hash", new.upper())
    assert code == 0 and "added 5" in out
