"""The tables declared (data/models.py) and the tables the code uses (data/tables.py,
generated from them) are the schema the migrations build: Alembic's own comparison
finds no difference on a freshly migrated database, on SQLite and on PostgreSQL
(columns, types, nullability, indexes, unique constraints, foreign keys)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from session_tui.data import models, tables
from session_tui.data.db import open_database

# Made by the migrations outside the tables the code declares: the search index (FTS5
# on SQLite) and the expression indexes (names unique ignoring case, the trigram
# search on PostgreSQL; SQLite's are not reflected at all).
_NOT_DECLARED = ("contact_fts",)
_EXPRESSION_INDEXES = {"ux_product_name_lower", "ux_segment_name_lower", "ix_contact_search_trgm"}


def _relevant(diff: Any) -> bool:
    if isinstance(diff, list):
        return any(_relevant(d) for d in diff)
    kind, obj = diff[0], diff[1]
    if kind == "remove_table" and obj.name.startswith(_NOT_DECLARED):
        return False
    return not (kind == "remove_index" and obj.name in _EXPRESSION_INDEXES)


@pytest.mark.parametrize("declared", [models, tables], ids=["models", "tables"])
def test_models_match_the_migrated_schema(db_url: str, declared: Any) -> None:
    db = open_database(db_url)
    try:
        with db.engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "skipped expression-based index"
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [d for d in compare_metadata(context, declared.metadata) if _relevant(d)]
    finally:
        db.dispose()
    assert diffs == []
