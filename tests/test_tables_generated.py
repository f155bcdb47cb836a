"""data/tables.py, the Core tables the code builds its SQL on, is what
`python -m session_tui.tools.gen_tables` makes of the SQLModel classes in
data/models.py, where the schema is declared: the same text, the same DDL on SQLite
and PostgreSQL, the same insert defaults. (tests/test_models_match_migrations.py
compares both with a freshly migrated database.)"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Float, MetaData, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from session_tui.data import models, tables
from session_tui.tools import gen_tables


def test_the_file_is_what_the_tool_writes() -> None:
    assert gen_tables.TARGET.read_text(encoding="utf-8") == gen_tables.render()
    assert gen_tables.main(["--check"]) == 0


def _ddl(metadata: MetaData, dialect: Any) -> list[str]:
    out = []
    for table in metadata.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            out.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return out


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_the_tables_make_the_models_ddl(dialect: Any) -> None:
    expected = _ddl(models.metadata, dialect)
    assert len(expected) == 5 + 8  # five tables, eight declared indexes
    assert _ddl(tables.metadata, dialect) == expected


def _defaults(table: Table) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        d = column.default
        if d is None:
            out[column.name] = None
        elif d.is_scalar:  # type: ignore[attr-defined]
            out[column.name] = ("scalar", d.arg)  # type: ignore[attr-defined]
        else:
            out[column.name] = ("callable", getattr(d.arg, "__wrapped__", d.arg))  # type: ignore[attr-defined]
    return out


def test_the_tables_have_the_models_insert_defaults() -> None:
    pairs = [
        (models.contact_t, tables.contact_t),
        (models.product_t, tables.product_t),
        (models.membership_t, tables.membership_t),
        (models.event_t, tables.event_t),
        (models.segment_t, tables.segment_t),
    ]
    for declared, generated in pairs:
        assert _defaults(generated) == _defaults(declared), declared.name
    assert _defaults(tables.contact_t)["version"] == ("scalar", 1)


def test_a_plain_insert_gets_the_derived_columns(tmp_path: Path) -> None:
    """The callable defaults work through the generated table: a contact inserted
    with names and email only is found by search and sorted by its UCA key."""
    from session_tui.data.collation import name_key, search_text
    from session_tui.data.db import open_database

    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with db.engine.begin() as conn:
            conn.execute(
                insert(tables.contact_t).values(
                    email="lea@example.com",
                    first_name="Léa",
                    last_name="Ørsted",
                    created_at=datetime(2026, 1, 1),
                    updated_at=datetime(2026, 1, 1),
                )
            )
            row = conn.execute(
                tables.contact_t.select().where(tables.contact_t.c.email == "lea@example.com")
            ).one()
    finally:
        db.dispose()
    assert row.name_key == name_key("Léa", "Ørsted")
    assert row.search_text == search_text("Léa", "Ørsted", "lea@example.com")
    assert row.version == 1


def test_what_the_tool_cannot_render_stops_it_by_name() -> None:
    """A type the renderer does not know is refused with the column's name, not left
    out of the file."""
    metadata = MetaData()
    Table("contact", metadata, Column("id", Float(), primary_key=True))
    with pytest.raises(gen_tables.Unsupported, match=r"contact\.id: type Float"):
        gen_tables.render(metadata)
