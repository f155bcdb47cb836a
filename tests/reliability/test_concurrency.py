"""Concurrent users: two app instances, each with its own `open_database` of the same
SQLite file or the same PostgreSQL database, driven side by side with Pilot.

- One edits while the other deletes; both edit the same contact: the `version`
  check refuses the stale save (no lost update), says so, and writes nothing.
- One imports while the other browses and edits: no crash; on SQLite a write that
  finds the database locked waits (busy_timeout), then says it is busy; the same
  save succeeds once the import is done.
- "Refresh" is `ctrl+r` (or `f5`) on the Contacts screen: it re-reads the count and
  the visible rows, keeping cursor and selection. After it, each instance shows
  the other's changes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from textual.widgets import Input, Static

from session_tui.data.csvio import Progress, import_csv
from session_tui.data.db import Database, open_database
from session_tui.data.tables import contact_t
from session_tui.ui.app import SessionApp, make_app
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.edit_contact import EditContactModal
from session_tui.ui.screens import contact_actions
from tests.reliability.helpers import integrity_ok
from tests.ui.contacts_helpers import contacts_screen, line_texts, settle, wait_until

SIZE = (120, 40)
N = 30


def _two_users(db: Database, url: str) -> Iterator[tuple[Database, Database]]:
    """Seed through one connection, then two independent 'users' of the database."""
    from tests.helpers import add_contacts

    add_contacts(db, [(f"p{i:03d}@example.com", f"First{i:03d}", f"Last{i:03d}") for i in range(N)])
    a, b = open_database(url), open_database(url)
    try:
        yield a, b
    finally:
        a.dispose()
        b.dispose()


@pytest.fixture
def two(db: Database, db_url: str) -> Iterator[tuple[Database, Database]]:
    """Two users of one SQLite file, then of one PostgreSQL database."""
    yield from _two_users(db, db_url)


@pytest.fixture
def two_sqlite(sqlite_db: Database, sqlite_url: str) -> Iterator[tuple[Database, Database]]:
    """SQLite only, where a case adds nothing on PostgreSQL but time."""
    yield from _two_users(sqlite_db, sqlite_url)


def row_of(db: Database, email: str) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(select(contact_t).where(contact_t.c.email == email)).first()


async def open_editor(app: SessionApp, pilot: Any) -> EditContactModal:
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
    await pilot.pause()
    assert isinstance(app.screen, EditContactModal)
    return app.screen


async def save(pilot: Any, modal: EditContactModal, first: str) -> None:
    modal.query_one("#edit-first_name", Input).value = first
    await pilot.press("ctrl+s")


def shown(modal: EditContactModal, selector: str) -> str:
    widget = modal.query_one(selector)
    return str(widget.render()) if widget.display else ""


async def test_both_edit_the_same_contact_no_lost_update(two: tuple[Database, Database]) -> None:
    db_a, db_b = two
    a, b = make_app(db=db_a), make_app(db=db_b)
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        await settle(pa, contacts_screen(a).table)
        await settle(pb, contacts_screen(b).table)
        modal_a = await open_editor(a, pa)
        modal_b = await open_editor(b, pb)
        await save(pb, modal_b, "Bea")  # B saves first
        await wait_until(pb, lambda: not isinstance(b.screen, EditContactModal))
        await save(pa, modal_a, "Alan")  # A's copy is stale now
        await wait_until(pa, lambda: bool(shown(modal_a, "#conflict")))
        text = str(modal_a.query_one("#conflict-text", Static).render())
        assert "Another user changed this contact" in text and "Bea" in text
        assert row_of(db_a, "p000@example.com").first_name == "Bea"  # nothing written
        # A takes B's version and edits on top of it.
        await pa.click("#edit-reload")
        await pa.pause()
        assert modal_a.query_one("#edit-first_name", Input).value == "Bea"
        await save(pa, modal_a, "Alan")
        await wait_until(pa, lambda: not isinstance(a.screen, EditContactModal))
        row = row_of(db_a, "p000@example.com")
        assert (row.first_name, row.version) == ("Alan", 3)
        # B refreshes and sees A's edit.
        table_b = contacts_screen(b).table
        await pb.press("ctrl+r")
        await wait_until(
            pb, lambda: table_b.current_row is not None and table_b.current_row.first_name == "Alan"
        )
        await settle(pb, table_b)
        assert any("Alan Last000" in line for line in line_texts(table_b))


async def test_one_edits_while_the_other_deletes(two_sqlite: tuple[Database, Database]) -> None:
    db_a, db_b = two_sqlite
    a, b = make_app(db=db_a), make_app(db=db_b)
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        table_a, table_b = contacts_screen(a).table, contacts_screen(b).table
        await settle(pa, table_a)
        await settle(pb, table_b)
        modal_a = await open_editor(a, pa)  # A edits p000 ...
        await pb.press("d")  # ... while B deletes it
        await wait_until(pb, lambda: isinstance(b.screen, ConfirmModal))
        await pb.press("y")
        await wait_until(pb, lambda: row_of(db_b, "p000@example.com") is None)
        await wait_until(pb, lambda: not contact_actions._state(b).busy)
        await save(pa, modal_a, "Ghost")
        await wait_until(pa, lambda: bool(shown(modal_a, "#conflict")))
        assert "deleted this contact" in str(modal_a.query_one("#conflict-text", Static).render())
        assert modal_a.query_one("#edit-save").disabled
        await pa.press("escape")
        assert row_of(db_a, "p000@example.com") is None  # the edit did not bring it back
        # A refreshes: one contact fewer.
        await pa.press("ctrl+r")
        await wait_until(pa, lambda: table_a.count == N - 1)
        # B undoes; A's refresh shows the contact again, with its original name.
        await pb.press("u")
        await wait_until(pb, lambda: row_of(db_b, "p000@example.com") is not None)
        await pa.press("f5")
        await wait_until(pa, lambda: table_a.count == N)
        await settle(pa, table_a)
        assert table_a.current_row is not None
        assert table_a.current_row.first_name == "First000"
        # An edit A opened on the restored contact works (same id and version as before).
        modal_a = await open_editor(a, pa)
        await save(pa, modal_a, "Alive")
        await wait_until(pa, lambda: not isinstance(a.screen, EditContactModal))
        assert row_of(db_a, "p000@example.com").first_name == "Alive"


async def test_one_imports_while_the_other_browses_and_edits(
    two: tuple[Database, Database], tmp_path: Path
) -> None:
    db_a, db_b = two
    db_b.dispose()

    # A short lock wait for B's connections, so that waiting for the import's lock
    # ends within the test (the app's own is LOCK_WAIT_MS, 10 s).
    @event.listens_for(db_b.engine, "connect")
    def _short_wait(dbapi_conn: Any, _record: Any) -> None:
        if db_b.is_sqlite:
            dbapi_conn.execute("PRAGMA busy_timeout = 300")
        else:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET lock_timeout = 300")
            dbapi_conn.commit()

    path = tmp_path / "big.csv"
    path.write_text(
        "email,first_name,last_name\n"
        + "".join(f"new{i:05d}@example.com,New{i},Person\n" for i in range(3_000)),
        encoding="utf-8",
    )
    holding = threading.Event()
    release = threading.Event()
    result: dict[str, Any] = {}

    def progress(p: Progress) -> None:
        if p.rows >= 1_000 and not holding.is_set():
            holding.set()
            release.wait(30)  # the import holds its transaction (and lock) open here

    def run_import() -> None:
        try:
            result["report"] = import_csv(db_a, path, progress=progress, batch_size=500)
        except Exception as exc:  # noqa: BLE001 - asserted below
            result["error"] = exc

    b = make_app(db=db_b)
    async with b.run_test(size=SIZE) as pb:
        table_b = contacts_screen(b).table
        await settle(pb, table_b)
        worker = threading.Thread(target=run_import)
        worker.start()
        try:
            assert holding.wait(30)
            # B browses: scrolling, searching and refreshing all work during the import.
            await pb.press("G", "g", "j", "j")
            await pb.press("ctrl+r")
            await settle(pb, table_b)
            assert table_b.count == N  # the import is not committed: B sees none of it
            modal_b = await open_editor(b, pb)
            await save(pb, modal_b, "Busy")
            await wait_until(
                pb,
                lambda: (
                    not isinstance(b.screen, EditContactModal)
                    or bool(shown(modal_b, "#general-error"))
                ),
                timeout=20,
            )
            # One writer of `contact` at a time (SQLite: the database; PostgreSQL: the
            # import's table lock). B waited its lock timeout, is told, wrote nothing.
            message = shown(modal_b, "#general-error")
            assert "database is busy" in message and "try again" in message
            assert row_of(db_b, "p002@example.com").first_name == "First002"
            release.set()
            worker.join(30)
            assert "report" in result, result
            assert result["report"].added == 3_000
            await pb.press("ctrl+s")  # the same save, retried
            await wait_until(pb, lambda: not isinstance(b.screen, EditContactModal))
            assert row_of(db_b, "p002@example.com").first_name == "Busy"
            await pb.press("ctrl+r")
            await wait_until(pb, lambda: table_b.count == N + 3_000)
        finally:
            release.set()
            worker.join(30)
        assert b.is_running
    assert integrity_ok(db_a)


async def test_two_instances_write_at_once_without_crashing(
    two: tuple[Database, Database],
) -> None:
    """A bulk delete in A and a burst of edits in B at the same moment: both finish
    (busy_timeout / row locks make them wait for each other), nothing is lost."""
    db_a, db_b = two
    a, b = make_app(db=db_a), make_app(db=db_b)
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        table_a, table_b = contacts_screen(a).table, contacts_screen(b).table
        await settle(pa, table_a)
        await settle(pb, table_b)
        await pa.press("G")  # A selects the last 10 contacts
        for _ in range(9):
            await pa.press("shift+up")
        selected = set(table_a.selected_ids())
        assert len(selected) == 10
        await pa.press("d")
        await wait_until(pa, lambda: isinstance(a.screen, ConfirmModal))
        await pa.press("y")
        for i in range(3):  # meanwhile B edits the first three
            modal_b = await open_editor(b, pb)
            await save(pb, modal_b, f"Edited{i}")
            await wait_until(pb, lambda: not isinstance(b.screen, EditContactModal), timeout=20)
            await pb.press("j")
        await wait_until(pa, lambda: not contact_actions._state(a).busy, timeout=20)
        with db_a.engine.connect() as conn:
            ids = set(conn.execute(select(contact_t.c.id)).scalars())
            names = list(
                conn.execute(
                    select(contact_t.c.first_name).order_by(contact_t.c.email).limit(3)
                ).scalars()
            )
        assert not ids & selected and len(ids) == N - 10
        assert names == ["Edited0", "Edited1", "Edited2"]
        assert a.is_running and b.is_running
    assert integrity_ok(db_a)
