"""The contact search index, as the migrations build and drop it.

SQLite: an FTS5 table with the trigram tokenizer over some contact columns, kept in
step by triggers. PostgreSQL: a pg_trgm GIN index (ix_contact_search_trgm) over one
expression. 0002 indexed the raw names and email (`RAW`), 0005 moved both to
`search_text` (`FOLDED`); the statements here are the ones those migrations have
always run.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import op

from session_tui.data.fts import fts_triggers

FTS_TRIGGERS = ("contact_fts_ai", "contact_fts_ad", "contact_fts_au")


@dataclass(frozen=True)
class Indexed:
    """What the search index covers: SQLite's FTS5 columns, PostgreSQL's expression."""

    fts_columns: tuple[str, ...]
    trigram_expression: str


RAW = Indexed(
    ("first_name", "last_name", "email"),
    "(lower(first_name || ' ' || last_name || chr(31) || email))",
)
FOLDED = Indexed(("search_text",), "search_text")


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def create(indexed: Indexed) -> None:
    """Build the index over `indexed` (PostgreSQL: pg_trgm must be installed)."""
    if not _sqlite():
        op.execute(
            "CREATE INDEX ix_contact_search_trgm ON contact USING gin "
            f"({indexed.trigram_expression} gin_trgm_ops)"
        )
        return
    columns = indexed.fts_columns
    op.execute(
        f"CREATE VIRTUAL TABLE contact_fts USING fts5({', '.join(columns)}, "
        "content='contact', content_rowid='id', tokenize='trigram')"
    )
    op.execute("INSERT INTO contact_fts(contact_fts) VALUES ('rebuild')")
    for statement in fts_triggers(*columns):
        op.execute(statement)


def drop() -> None:
    """Drop the index, whatever it covers (nothing when there is none)."""
    if not _sqlite():
        op.execute("DROP INDEX IF EXISTS ix_contact_search_trgm")
        return
    for trigger in FTS_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS contact_fts")
