"""Storage faults: a read-only database file (0400), a read-only directory, a full disk.

Each gives a clear message in the app (beside the field, in the modal, or as a
notification), writes nothing, and the app keeps running; the data layer raises
`DatabaseError` with a one-line message. The same Pilot flow (`try_every_write`)
runs first on a healthy copy (where every write succeeds) and then under the fault.

Read-only as root: root ignores file modes, so the tests run the app with the
effective uid/gid of `nobody` (seteuid; every module is imported beforehand). A
full disk is a 2 MB tmpfs when mounting is allowed (root), and otherwise SQLite's
`PRAGMA max_page_count` on every connection.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from textual.widgets import Input, Static

import session_tui
import session_tui.ui.modals.add_membership  # noqa: F401 - imported before dropping privileges
import session_tui.ui.modals.import_csv  # noqa: F401
import session_tui.ui.screens.contact_actions  # noqa: F401
import session_tui.ui.screens.csv_flows  # noqa: F401
import session_tui.ui.screens.membership_flows  # noqa: F401
from session_tui.data.csvio import import_csv
from session_tui.data.db import Database, DatabaseError, open_database
from session_tui.data.tables import contact_t, product_t
from session_tui.ui.app import SessionApp, make_app
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.edit_contact import EditContactModal
from tests.reliability.helpers import integrity_ok, table_state
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until

SIZE = (120, 40)
NOBODY = 65534
T0 = datetime(2026, 1, 1, 12, 0, 0)
ROOT = os.geteuid() == 0


@contextmanager
def unprivileged() -> Iterator[None]:
    """Run as `nobody` when we are root (file modes then apply); else as we are.

    What the code imports lazily is imported first, as root: a checkout in a private
    folder (e.g. a clone in `mktemp -d`) is unreadable to `nobody`."""
    if not ROOT:
        yield
        return
    import rich.traceback  # noqa: F401  (Textual's error report)

    from session_tui.cli import build_parser

    build_parser()  # imports every command module
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def give_away(path: Path) -> None:
    """Hand a tree to `nobody` (root only), so that its modes are what counts."""
    if not ROOT:
        return
    for p in [path, *path.rglob("*")]:
        os.chown(p, NOBODY, NOBODY)


@pytest.fixture
def shared_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory `nobody` can use (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="reliability-", dir="/tmp"))
    os.chmod(base, 0o755)
    data = base / "data"
    data.mkdir()
    monkeypatch.setenv("SESSION_TUI_DATA_DIR", str(data))
    try:
        yield base
    finally:
        for p in [base, *base.rglob("*")]:
            if p.is_dir():
                os.chmod(p, 0o755)
        shutil.rmtree(base, ignore_errors=True)


def seed(db: Database, n: int = 8) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(product_t).values(name="Coaching", archived=False, created_at=T0))
        conn.execute(
            insert(contact_t),
            [
                {
                    "email": f"p{i}@example.com",
                    "first_name": f"First{i}",
                    "last_name": f"Last{i}",
                    "created_at": T0,
                    "updated_at": T0,
                    "version": 1,
                }
                for i in range(n)
            ],
        )


def csv_file(folder: Path, rows: int = 30) -> Path:
    path = folder / "in.csv"
    path.write_text(
        "email,first_name\n" + "".join(f"new{i}@example.com,N{i}\n" for i in range(rows)),
        encoding="utf-8",
    )
    os.chmod(path, 0o644)
    return path


@dataclass
class Outcome:
    edit: str = ""  # the edit modal's message ("" = saved)
    delete: str = ""  # the notification after y
    add: str = ""  # the add-membership modal's message ("" = added)
    imported: str = ""  # the import modal's message ("" = imported)
    notes: list[str] = field(default_factory=list)


def _shown(app: SessionApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return str(widget.render()) if widget.display else ""


async def keys(app: SessionApp, *names: str) -> None:
    await app._press_keys(names)


async def poll(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await asyncio.sleep(0.02)


async def try_every_write(app: SessionApp, pilot: Any, csv_path: Path) -> Outcome:
    """Browse, then edit, delete, add a membership and import from the keyboard."""
    out = Outcome()
    screen = contacts_screen(app)
    table = screen.table
    await settle(pilot, table)
    assert table.count and table.count > 0  # reading works

    # edit
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
    await pilot.pause()
    app.screen.query_one("#edit-first_name", Input).value = "Changed"
    await pilot.press("ctrl+s")
    await wait_until(
        pilot,
        lambda: not isinstance(app.screen, EditContactModal) or bool(_shown(app, "#general-error")),
    )
    if isinstance(app.screen, EditContactModal):
        out.edit = _shown(app, "#general-error")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))

    # delete the current contact
    await settle(pilot, table)
    # by identity: an earlier toast may expire meanwhile, so the count can stay the same
    seen = {n.identity for n in app._notifications}
    await pilot.press("d")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    await pilot.press("y")
    await wait_until(pilot, lambda: any(n.identity not in seen for n in app._notifications))
    note = [n for n in app._notifications if n.identity not in seen][-1]
    out.delete = "" if note.title == "Deleted" else str(note.message)

    # add a membership (prefilled with the current contact; the only product)
    await settle(pilot, table)
    await pilot.press("a")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "AddMembershipModal")
    modal = app.screen
    await wait_until(pilot, lambda: modal.query_one("#product").value == 1)  # type: ignore[attr-defined]
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: app.screen is not modal or bool(_shown(app, "#general-error")))
    if app.screen is modal:
        out.add = _shown(app, "#general-error")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not modal)

    # import (preview, then y). Keys go in without Pilot's wait for the screen's
    # widgets (a dialog closing meanwhile can stall that wait), then we poll.
    await pilot.press("i")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "ImportCsvModal")
    modal: Any = app.screen
    modal.query_one("#import-path", Input).value = str(csv_path)
    await keys(app, "enter")
    await poll(
        lambda: (
            not modal._busy and (modal.report is not None or bool(_shown(app, "#import-message")))
        )
    )
    if modal.report is not None:
        await keys(app, "tab", "y")  # leave the path box: y is a key, not a letter
        await poll(
            lambda: modal.stage == "summary" or (modal.stage == "preview" and not modal._busy)
        )
    out.imported = "" if modal.stage == "summary" else _shown(app, "#import-message")
    await keys(app, "escape")
    await poll(lambda: app.screen is not modal)
    out.notes = [str(n.message) for n in app._notifications]
    assert app.is_running and app.return_code is None
    return out


@dataclass
class Control:
    outcome: Outcome
    emails: set[str]


@pytest.fixture(scope="module")
def control() -> Iterator[Control]:
    """The control run, once per module: the same flow on a healthy database writes
    everything. It also imports everything the app loads lazily, before a test
    drops privileges (`nobody` cannot read this Python's files)."""
    base = Path(tempfile.mkdtemp(prefix="reliability-", dir="/tmp"))
    (base / "data").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SESSION_TUI_DATA_DIR", str(base / "data"))
        mp.setenv("TZ", "UTC")
        db = open_database(str(base / "ok.db"))
        seed(db)

        async def run() -> Outcome:
            app = make_app(db=db)
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                return await try_every_write(app, pilot, csv_file(base))

        try:
            outcome = asyncio.run(run())
            with db.engine.connect() as conn:
                emails = set(conn.execute(select(contact_t.c.email)).scalars())
        finally:
            db.dispose()
            shutil.rmtree(base, ignore_errors=True)
    yield Control(outcome, emails)


def test_a_healthy_database_takes_every_write(control: Control) -> None:
    out = control.outcome
    assert (out.edit, out.delete, out.add, out.imported) == ("", "", "", "")
    assert "new29@example.com" in control.emails and len(control.emails) == 8 - 1 + 30


async def test_read_only_database_file_gives_clear_messages(
    control: Control, shared_dir: Path
) -> None:
    folder = shared_dir / "db"
    folder.mkdir()
    path = folder / "team.db"
    db = open_database(str(path))
    seed(db)
    before = table_state(db)
    db.dispose()
    csv_path = csv_file(shared_dir)
    give_away(shared_dir)
    os.chmod(path, 0o400)
    with unprivileged():
        # The app reads its stylesheets when it starts: as `nobody` too.
        stylesheet = Path(session_tui.__file__).parent / "ui" / "app.tcss"
        readable = os.access(stylesheet, os.R_OK, effective_ids=True)
    if not readable:
        pytest.skip(
            "the checkout is in a folder `nobody` cannot read (e.g. a clone in mktemp -d): "
            "the app cannot start as `nobody` there; run from a readable checkout"
        )
    with unprivileged():
        ro = open_database(str(path))
        app = make_app(db=ro)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            out = await try_every_write(app, pilot, csv_path)
        with pytest.raises(DatabaseError, match="read-only"):
            import_csv(ro, csv_path)
        ro.dispose()
    for message in (out.edit, out.delete, out.add, out.imported):
        assert "read-only" in message, out
    assert out.delete.startswith("Nothing was deleted")
    assert out.imported.startswith("Nothing was imported") or "read-only" in out.imported
    os.chmod(path, 0o600)
    db = open_database(str(path))
    assert table_state(db) == before and integrity_ok(db)
    db.dispose()
    # The deletion's backup was removed again: it described a delete that did not happen.
    assert not list((shared_dir / "data" / "backups").glob("*"))


def test_read_only_folder_is_named_when_the_app_cannot_open(
    control: Control, shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite (WAL) must create -wal/-shm beside the file: in a read-only folder even
    reading is impossible. The app does not start; one line says why."""
    from session_tui.cli import main

    folder = shared_dir / "db"
    folder.mkdir()
    path = folder / "team.db"
    db = open_database(str(path))
    seed(db)
    before = table_state(db)
    db.dispose()
    give_away(shared_dir)
    os.chmod(folder, 0o500)
    try:
        with unprivileged():
            with pytest.raises(DatabaseError, match="folder is read-only") as info:
                open_database(str(path))
            code = main(["--db", str(path)])
    finally:
        os.chmod(folder, 0o755)
    assert str(folder) in str(info.value)
    assert code != 0
    err = capsys.readouterr().err
    assert "folder is read-only" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    db = open_database(str(path))
    assert table_state(db) == before and integrity_ok(db)
    db.dispose()


# -- full disk ----------------------------------------------------------------------


def _mount_tmpfs(target: Path, size: str) -> bool:
    if not ROOT or shutil.which("mount") is None:
        return False
    target.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(target)],
        capture_output=True,
    )
    return done.returncode == 0


@contextmanager
def tiny_filesystem(base: Path) -> Iterator[Path | None]:
    mount = base / "tiny"
    if not _mount_tmpfs(mount, "2m"):
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_up(folder: Path) -> Path:
    """Write a filler file until the filesystem says it is full."""
    filler = folder / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
    return filler


async def test_full_disk_gives_clear_messages_then_recovers(
    control: Control, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tiny_filesystem(shared_dir) as mount:
        if mount is None:
            pytest.skip("cannot mount a tmpfs here; test_full_database covers a full database")
        monkeypatch.setenv("SESSION_TUI_DATA_DIR", str(mount / "data"))
        path = mount / "full.db"
        db = open_database(str(path))
        seed(db)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        before_db = open_database(str(path))
        before = table_state(before_db)
        before_db.dispose()
        csv_path = csv_file(shared_dir, rows=20_000)
        full = open_database(str(path))
        (mount / "data" / "backups").mkdir(parents=True, exist_ok=True)
        filler = fill_up(mount)
        app = make_app(db=full)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            out = await try_every_write(app, pilot, csv_path)
            for message in (out.edit, out.delete, out.add, out.imported):
                assert "disk is full" in message, out
            # Space again: the next action succeeds, in the same session.
            filler.unlink()
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
            await pilot.pause()
            app.screen.query_one("#edit-first_name", Input).value = "Recovered"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))
        with pytest.raises(DatabaseError, match="disk is full"):
            fill_up(mount)
            try:
                import_csv(full, csv_path)
            finally:
                (mount / "filler").unlink()
        after = table_state(full)
        assert integrity_ok(full)
        full.dispose()
    first = [c.name for c in contact_t.columns].index("first_name")
    changed = [r for r in after["contact"] if r not in before["contact"]]
    assert [r[first] for r in changed] == ["Recovered"]
    assert len(after["contact"]) == len(before["contact"])
    assert after["membership"] == before["membership"]


def test_full_database_refuses_an_import_with_a_message(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """Without root: SQLite's max_page_count caps the file at its current size."""
    seed(sqlite_db)
    before = table_state(sqlite_db)
    sqlite_db.dispose()

    @event.listens_for(sqlite_db.engine, "connect")
    def _cap(dbapi_conn: Any, _record: Any) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(DatabaseError, match="disk is full"):
        import_csv(sqlite_db, csv_file(tmp_path, rows=20_000))
    assert table_state(sqlite_db) == before and integrity_ok(sqlite_db)
