"""SQL of the SQLite triggers that keep the FTS5 search index `contact_fts` in step
with `contact`. Used by migration 0002 and by bulk loaders (demo, import), which
drop them for a load and rebuild the index once, in the same transaction."""

_FTS_NEW = "VALUES (new.id, new.first_name, new.last_name, new.email)"
_FTS_OLD = "VALUES ('delete', old.id, old.first_name, old.last_name, old.email)"
_FTS_COLS = "contact_fts(rowid, first_name, last_name, email)"
_FTS_DEL = "contact_fts(contact_fts, rowid, first_name, last_name, email)"
# Also used by the bulk importer, which drops and re-creates them around a load.
FTS_TRIGGERS = (
    f"CREATE TRIGGER contact_fts_ai AFTER INSERT ON contact BEGIN "
    f"INSERT INTO {_FTS_COLS} {_FTS_NEW}; END",
    f"CREATE TRIGGER contact_fts_ad AFTER DELETE ON contact BEGIN "
    f"INSERT INTO {_FTS_DEL} {_FTS_OLD}; END",
    f"CREATE TRIGGER contact_fts_au AFTER UPDATE OF first_name, last_name, email ON contact "
    f"BEGIN INSERT INTO {_FTS_DEL} {_FTS_OLD}; INSERT INTO {_FTS_COLS} {_FTS_NEW}; END",
)
