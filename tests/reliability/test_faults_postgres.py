"""PostgreSQL goes away mid-session: clear messages, no crash, and the next action
succeeds once the server is back.

The shared server is never stopped: an admin connection ends this test database's
sessions with `pg_terminate_backend` (what a server restart or a dropped network
does to a client) and, to keep it away for a while, sets `ALLOW_CONNECTIONS false`
on this test database only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from textual.widgets import Input, Static

from session_tui.data.csvio import Progress, import_csv
from session_tui.data.db import Database, DatabaseError, open_database
from session_tui.data.editing import update_contact
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.data.tables import contact_t
from session_tui.ui.app import make_app
from session_tui.ui.modals.edit_contact import EditContactModal
from tests.reliability.helpers import table_state
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until

T0 = datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture
def pg(pg_url: str) -> Iterator[tuple[Database, Engine, str]]:
    """(the app's database, an admin engine on the server, the database's name)."""
    name = make_url(pg_url).database
    assert name
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    db = open_database(pg_url)
    with db.engine.begin() as conn:
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
                for i in range(20)
            ],
        )
    try:
        yield db, admin, name
    finally:
        set_allowed(admin, name, True)
        db.dispose()
        admin.dispose()


def terminate(admin: Engine, name: str) -> int:
    with admin.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            ).all()
        )


def set_allowed(admin: Engine, name: str, allowed: bool) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))


@contextmanager
def server_away(admin: Engine, name: str) -> Iterator[None]:
    set_allowed(admin, name, False)
    terminate(admin, name)
    try:
        yield
    finally:
        set_allowed(admin, name, True)


def test_the_pool_reconnects_after_the_server_dropped_every_session(
    pg: tuple[Database, Engine, str],
) -> None:
    db, admin, name = pg
    repo = ContactsRepository(db)
    assert repo.total() == 20  # a pooled connection exists now
    assert terminate(admin, name) >= 1
    assert repo.total() == 20  # pool_pre_ping replaced the dead connection
    row = repo.get_by_email("p1@example.com")
    assert row is not None
    saved = update_contact(db, row.id, row.version, "Again", row.last_name, row.email)
    assert saved.first_name == "Again"


def test_while_away_a_clear_message_then_it_works_again(
    pg: tuple[Database, Engine, str],
) -> None:
    db, admin, name = pg
    repo = ContactsRepository(db)
    row = repo.get_by_email("p2@example.com")
    assert row is not None
    with server_away(admin, name):
        with pytest.raises(Exception) as info:
            update_contact(db, row.id, row.version, "Lost", row.last_name, row.email)
        from session_tui.data.db import describe_error

        message = describe_error(info.value, db.url)
        assert message.startswith("cannot reach the database server"), message
        assert "\n" not in message
    saved = update_contact(db, row.id, row.version, "Back", row.last_name, row.email)
    assert saved.first_name == "Back"


def test_an_import_cut_off_midway_writes_nothing_and_can_be_redone(
    pg: tuple[Database, Engine, str], tmp_path: Path
) -> None:
    db, admin, name = pg
    before = table_state(db)
    path = tmp_path / "in.csv"
    path.write_text(
        "email,first_name\n" + "".join(f"new{i}@example.com,N{i}\n" for i in range(2_000)),
        encoding="utf-8",
    )
    fired = threading.Event()

    def progress(p: Progress) -> None:
        if p.rows >= 400 and not fired.is_set():
            fired.set()
            terminate(admin, name)  # the server drops us inside the transaction

    with pytest.raises(DatabaseError) as info:
        import_csv(db, path, progress=progress, batch_size=200)
    assert fired.is_set()
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("lost the connection to the database server")
    assert table_state(db) == before
    report = import_csv(db, path)
    assert report.added == 2_000


async def test_the_app_survives_the_server_going_away_and_coming_back(
    pg: tuple[Database, Engine, str],
) -> None:
    db, admin, name = pg
    app = make_app(db=db)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        assert table.count == 20
        with server_away(admin, name):
            # Refresh: a "Database error" notification, the old rows stay.
            shown = len(app._notifications)
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: len(app._notifications) > shown)
            note = list(app._notifications)[-1]
            assert note.severity == "error"
            assert "cannot reach the database server" in str(note.message)
            # Edit: the modal says so and stays open; nothing is written.
            await pilot.press("e")
            await pilot.pause(0.5)
            if isinstance(app.screen, EditContactModal):  # opened from cached row?
                modal = app.screen
                modal.query_one("#edit-first_name", Input).value = "Lost"
                await pilot.press("ctrl+s")
                error = modal.query_one("#general-error", Static)
                await wait_until(pilot, lambda: bool(str(error.render())))
                assert "cannot reach the database server" in str(error.render())
                await pilot.press("escape")
            else:  # the editor re-reads the contact first: that failed, with a notice
                assert "cannot reach the database server" in str(
                    list(app._notifications)[-1].message
                )
            assert app.is_running
        # Back: refresh and edit work again in the same session.
        await pilot.press("ctrl+r")
        await settle(pilot, table)
        assert table.count == 20
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
        await pilot.pause()
        app.screen.query_one("#edit-first_name", Input).value = "Back"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditContactModal))
    with db.engine.connect() as conn:
        names = set(conn.execute(select(contact_t.c.first_name)).scalars())
    assert "Back" in names and "Lost" not in names
