"""The import is one transaction: a process killed (SIGKILL) in the middle of an
import leaves the database exactly as it was, and intact."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.tables import contact_t
from tests.helpers import expect_line, spawn

pytestmark = pytest.mark.slow

# Imports with a progress callback that announces the stage it reached on
# stdout, then waits there to be killed.
CHILD = r"""
import sys, time
from session_tui.data.db import open_database
from session_tui.data.csvio import import_csv

url, path, stage = sys.argv[1:4]
db = open_database(url)

def progress(p):
    if p.stage == stage and (stage != "reading" or p.rows >= 300):
        print("REACHED", p.stage, p.rows, flush=True)
        time.sleep(600)

import_csv(db, path, progress=progress, batch_size=100)
print("FINISHED", flush=True)
"""


@pytest.mark.parametrize("stage", ["reading", "indexing"])
def test_sigkill_midway_leaves_the_database_unchanged(
    db: Database, db_url: str, tmp_path: Path, stage: str
) -> None:
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(
            insert(contact_t),
            [
                {
                    "email": f"keep{i}@example.com",
                    "first_name": "Keep",
                    "last_name": str(i),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(5)
            ],
        )
    path = tmp_path / "big.csv"
    path.write_text(
        "email,first_name\n" + "".join(f"kill{i}@example.com,Victim{i}\n" for i in range(1_000)),
        encoding="utf-8",
    )

    child = spawn(CHILD, db_url, str(path), stage)
    try:
        expect_line(child, "REACHED " + stage)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    db.dispose()  # fresh connections, as a new process would have
    with db.engine.connect() as conn:
        emails = set(conn.execute(select(contact_t.c.email)).scalars())
        assert emails == {f"keep{i}@example.com" for i in range(5)}
        if db.is_sqlite:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            triggers = set(
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            assert {"contact_fts_ai", "contact_fts_ad", "contact_fts_au"} <= triggers
            conn.execute(text("INSERT INTO contact_fts(contact_fts) VALUES('integrity-check')"))
        else:
            count = conn.execute(select(func.count()).select_from(contact_t)).scalar_one()
            assert count == 5
    # Still writable and searchable: the killed import left no lock behind.
    from session_tui.data.csvio import import_csv

    assert import_csv(db, path).added == 1_000
    assert ContactsRepository(db).count(ContactQuery(search="victim999")) == 1
