"""Run the Alembic migrations programmatically.

Importing Alembic costs about 0.15 s of every start, so `ensure_current` first reads
the stored revision (one small query) and imports Alembic only when it differs from
`HEAD_REVISION` -- a new or older database. tests/test_migrations.py keeps
`HEAD_REVISION` equal to the migrations' real head: whoever adds a migration updates
it (a stale constant would skip the new migration).

The functions take anything with a `url` and an `engine` (a `db.Database`): this
module is what `db.open_database` calls, so it does not import `db` back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from session_tui import SCHEMA_VERSION

if TYPE_CHECKING:
    from alembic.config import Config


class Database(Protocol):
    """What migrating needs of an open database (`db.Database` has both)."""

    @property
    def url(self) -> str: ...

    @property
    def engine(self) -> Engine: ...


# The newest revision in migrations/versions (see the module doc). One constant,
# `session_tui.SCHEMA_VERSION`, which `session-tui --version` prints too.
HEAD_REVISION = SCHEMA_VERSION


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "session_tui.data:migrations")
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def stored_revisions(db: Database) -> list[str] | None:
    """The revisions in the database's `alembic_version` table, read without Alembic;
    None when there is no such table (a new, empty database)."""
    with db.engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return sorted(str(r) for r in rows)
        except SQLAlchemyError:  # no such table (the exact error differs per driver)
            conn.rollback()
            return None


def is_current(db: Database) -> bool:
    return stored_revisions(db) == [HEAD_REVISION]


def ensure_current(db: Database) -> bool:
    """Create or upgrade the schema when needed; True when a migration ran."""
    if is_current(db):
        return False
    upgrade(db)
    return True


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
