"""The backup's contact lines, built by the database itself.

`contact_lines_sql(dialect, ids_table)` is one SELECT that returns, for every
contact whose id is in `ids_table` (ascending id), the finished JSON line of the
backup file (backup_format.py): the contact's columns (derived ones left out,
restore recomputes them), its memberships by id, each with its history events
by id. Python only compresses and writes them.

The text is the same, byte for byte, as `backup_format.dumps` of the same rows
(compact separators, UTF-8 as it is, the columns in table order): strings are
quoted by the database's own JSON quoting, which escapes exactly what Python's
`json.dumps(ensure_ascii=False)` escapes (`"`, `\\`, the short escapes
`\\b \\f \\n \\r \\t`, other control characters as lower-case `\\u00XX`), and
datetimes are written as `datetime.isoformat()` writes them (`T`, microseconds
only when not zero). The lines are concatenated text rather than
`json_object`/`json_build_object` output because PostgreSQL's JSON builders put
spaces after `:` and `,`.
"""

from __future__ import annotations

from sqlalchemy import DateTime, Integer, Table

from session_tui.data.collation import DERIVED_COLUMNS
from session_tui.data.tables import contact_t, event_t, membership_t


def _value(dialect: str, column: str, table: Table, alias: str) -> str:
    """The JSON text of one column (`null` for NULL)."""
    col = table.c[column]
    ref = f"{alias}.{column}"
    if isinstance(col.type, DateTime):
        if dialect == "postgresql":
            micro = f"mod(extract(microseconds FROM {ref})::bigint, 1000000)"
            iso = (
                f"to_char({ref}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
                f"CASE WHEN {micro} <> 0 THEN to_char({ref}, '.US') ELSE '' END"
            )
            return f"coalesce('\"' || {iso} || '\"', 'null')"
        # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff"; isoformat() drops a zero fraction.
        iso = (
            f"CASE WHEN length({ref}) > 19 AND substr({ref}, 20) <> '.000000' "
            f"THEN replace({ref}, ' ', 'T') ELSE replace(substr({ref}, 1, 19), ' ', 'T') END"
        )
        return f"coalesce('\"' || {iso} || '\"', 'null')"
    if isinstance(col.type, Integer):
        return f"coalesce(CAST({ref} AS TEXT), 'null')"
    if dialect == "postgresql":
        return f"coalesce(to_json({ref})::text, 'null')"
    return f"json_quote({ref})"


def _object(dialect: str, table: Table, alias: str, extra: tuple[tuple[str, str], ...] = ()) -> str:
    """`{"col":value,...}` of one row as SQL text concatenation (table column order)."""
    names = [c.name for c in table.columns if c.name not in DERIVED_COLUMNS]
    parts = [(name, _value(dialect, name, table, alias)) for name in names]
    parts.extend(extra)
    pieces = []
    for i, (name, expr) in enumerate(parts):
        lead = "{" if i == 0 else ","
        pieces.append(f"'{lead}\"{name}\":' || {expr}")
    return " || ".join(pieces) + " || '}'"


def _array(dialect: str, item: str, source: str, order: str) -> str:
    """`[item,...]` over the rows of `source` in `order` ('[]' when none)."""
    if dialect == "postgresql":
        agg = f"string_agg({item}, ',' ORDER BY {order})"
        return f"('[' || coalesce((SELECT {agg} FROM {source}), '') || ']')"
    # SQLite aggregates in the order of an ordered subquery.
    inner = f"SELECT {item} AS j FROM {source} ORDER BY {order}"
    return f"('[' || coalesce((SELECT group_concat(j, ',') FROM ({inner})), '') || ']')"


def contact_lines_sql(dialect: str, ids_table: str) -> str:
    """SELECT c.id, line FROM the contacts in `ids_table` (column `id`), by id."""
    return f"SELECT c.id, {_line(dialect)} {_contacts_in(ids_table)}"


def contact_lines_copy_sql(ids_table: str) -> str:
    """PostgreSQL: a COPY that streams the same lines, each as it is built, with its
    newline, to the client: the lines are written while the server builds the next
    ones, and reach Python as the bytes that go into the file. CSV with delimiter and
    quote characters that a line cannot hold (the database's JSON quoting escapes
    every control character), so nothing is quoted or escaped: each row is the line
    exactly."""
    select = f"SELECT {_line('postgresql')} {_contacts_in(ids_table)}"
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e')"


def _contacts_in(ids_table: str) -> str:
    return f"FROM contact c WHERE c.id IN (SELECT id FROM {ids_table}) ORDER BY c.id"


def _line(dialect: str) -> str:
    """The SQL expression of a contact's line (contact alias `c`)."""
    events = _array(
        dialect,
        _object(dialect, event_t, "e"),
        "membership_event e WHERE e.membership_id = m.id",
        "e.id",
    )
    memberships = _array(
        dialect,
        _object(dialect, membership_t, "m", (("events", events),)),
        "membership m WHERE m.contact_id = c.id",
        "m.id",
    )
    return (
        "'{\"contact\":' || "
        + _object(dialect, contact_t, "c")
        + " || ',\"memberships\":' || "
        + memberships
        + " || '}'"
    )


__all__ = ["contact_lines_copy_sql", "contact_lines_sql"]
