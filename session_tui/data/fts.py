"""SQL of the SQLite triggers that keep the FTS5 search index `contact_fts` in step
with `contact`. Used by the migrations and by bulk loaders (demo, import, restore),
which drop them for a load and fill the index once, in the same transaction.

The index covers one column, `contact.search_text` (the folded name and email, see
data/collation.py); `FTS_COLUMNS` names it for the loaders' own INSERT … SELECT.
"""

from __future__ import annotations

FTS_COLUMNS = "search_text"


def fts_triggers(*columns: str) -> tuple[str, str, str]:
    """The insert, delete and update triggers of an index over these `contact` columns
    (a migration passes the columns its own index has)."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    add = f"INSERT INTO contact_fts(rowid, {names}) VALUES (new.id, {new});"
    remove = (
        f"INSERT INTO contact_fts(contact_fts, rowid, {names}) VALUES ('delete', old.id, {old});"
    )
    return (
        f"CREATE TRIGGER contact_fts_ai AFTER INSERT ON contact BEGIN {add} END",
        f"CREATE TRIGGER contact_fts_ad AFTER DELETE ON contact BEGIN {remove} END",
        f"CREATE TRIGGER contact_fts_au AFTER UPDATE OF {names} ON contact "
        f"BEGIN {remove} {add} END",
    )


# The triggers of today's index. The bulk importer drops and re-creates them around a load.
FTS_TRIGGERS = fts_triggers(FTS_COLUMNS)
