"""The lines the database builds for the export, row by row: a row with a cell that
needs CSV quoting next to rows that do not, several memberships, none, a filter and
a selection -- each byte for byte what the csv module writes of the export's cells.
SQLite and PostgreSQL. And the export_floor benchmark figure without a shell."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, true

from session_tui.bench import export_floor
from session_tui.bench.context import Context
from session_tui.data.csvio.exporter import EXPORT_COLUMNS, export_csv, export_statement
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t


def csv_of_cells(db: Database, where: ColumnElement[bool]) -> str:
    with db.engine.connect() as conn:
        cells = conn.execute(export_statement(db, where)).all()
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(cells)
    return out.getvalue()


def exported(db: Database, **kwargs: object) -> str:
    out = io.StringIO(newline="")
    export_csv(db, out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def test_rows_that_need_quoting_among_rows_that_do_not(db: Database) -> None:
    products = ProductsRepository(db)
    for name in ("Coaching", "Course, part 2", 'The "Big" One', "=SUM"):
        products.add(name)
    members = MembershipsRepository(db)
    members.grant("plain@example.com", "Coaching", "paid", first_name="Ann", last_name="Lee")
    members.grant("plain@example.com", "=SUM", "free")
    members.grant("comma@example.com", "Course, part 2", "paid", first_name="Bo")
    members.grant("comma@example.com", "Coaching", "comped")
    members.grant("quote@example.com", "Coaching", "paid", last_name='O"Neil')
    members.grant("big@example.com", 'The "Big" One', "free", first_name="Cy")
    members.grant("formula@example.com", "Coaching", "paid", first_name="+1", last_name="-x,y")
    with db.engine.begin() as conn:
        conn.execute(
            contact_t.insert().values(
                email="alone@example.com",
                first_name="two\r\nlines",
                last_name="Memberships, yet",
                created_at=members_time(),
                updated_at=members_time(),
            )
        )

    text = exported(db)
    assert text == csv_of_cells(db, true())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    by_email = {row[0]: row for row in rows[1:]}
    # SQLite lists products in the order they were granted, PostgreSQL by name.
    assert by_email["plain@example.com"][4] in ("Coaching; =SUM", "'=SUM; Coaching")
    assert by_email["comma@example.com"][4] in (
        "Course, part 2; Coaching",
        "Coaching; Course, part 2",
    )
    assert by_email["quote@example.com"][2] == 'O"Neil'
    assert by_email["big@example.com"][4] == 'The "Big" One'
    assert by_email["formula@example.com"][1:3] == ["'+1", "'-x,y"]
    alone = by_email["alone@example.com"]
    assert alone[1:6] == ["two\r\nlines", "Memberships, yet", "none", "", ""]
    assert alone[7] == ""
    # Only the cells that hold a quote, comma or line break are quoted.
    assert "\r\nplain@example.com,Ann,Lee,active," in text
    assert '\r\nquote@example.com,,"O""Neil",active,Coaching,paid,' in text

    wanted = [row[0] for row in rows[1:]][1:3]
    ids = [_id_of(db, email) for email in wanted]
    selected = contact_t.c.id.in_(ids)
    assert exported(db, ids=ids) == csv_of_cells(db, selected)
    assert exported(db, query=ContactQuery(search="comma")) == csv_of_cells(
        db, contact_t.c.email == "comma@example.com"
    )


def members_time() -> datetime:
    from session_tui.data.clock import utcnow

    return utcnow().replace(microsecond=0)


def _id_of(db: Database, email: str) -> int:
    with db.engine.connect() as conn:
        found = conn.execute(contact_t.select().where(contact_t.c.email == email)).one()
    return int(found.id)


def test_export_floor_is_skipped_without_the_sqlite3_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_floor.shutil, "which", lambda name: None)
    ctx = Context(tmp_path, 10, 20, verbose=False)

    (figure,) = export_floor.figure_export_floor(ctx)
    assert figure.name == "export_floor"
    assert figure.skip is not None and "sqlite3" in figure.skip
    assert figure.line().startswith("export_floor: SKIP (")
    assert not (tmp_path / "cache").exists()  # no dataset was generated for nothing
