"""SQLite restore: memberships and history events held back in TEMP tables.

The first (non-careful) attempt of a restore (restore.py) puts the contacts in a
batch at a time as the file is read, while their memberships and events go into
TEMP tables (by executemany, as the batches come); after every contact, one
`INSERT INTO membership .. SELECT .. FROM the temp table ORDER BY id` puts every
membership back, then one puts every event back, and the temp tables are dropped,
all in the restore's transaction (a rollback takes the temp tables away too).
Each table's b-trees then stay in the page cache while that table is written, in
id order (interleaving the three tables per batch kept all their indexes in
play). The restore's connection keeps its temporary storage in a file
(`bulk_write(temp_file=True)`), so the held rows are not in the process's memory.
docs/performance.md, "SQLite undo, table by table".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from session_tui.data.deletion.backup_format import TableSpec

# SQLite virtual-machine instructions between two polls of `cancelled` while a
# held-back table goes in (a poll is a Python call: ~1,000 a second of work).
_POLL_EVERY = 100_000


def row_values(cols: Sequence[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's values in `cols` order, as a tuple (`itemgetter`: ~3x less CPU than a
    list built per row, ~1.5 s at a million; docs/performance.md, "PostgreSQL undo,
    sixth round"). Shared by SQLite's executemany and PostgreSQL's COPY."""
    if len(cols) == 1:
        col = cols[0]
        return lambda row: (row[col],)
    return itemgetter(*cols)


def sqlite_params(
    spec: TableSpec, cols: Sequence[str], rows: Iterable[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows as executemany parameters in `cols` order; datetimes as the text
    SQLAlchemy's DateTime stores on SQLite: "YYYY-MM-DD HH:MM:SS.ffffff"."""
    dts = [i for i, c in enumerate(cols) if c in spec.datetimes]
    values_of = row_values(cols)
    if not dts:
        return [values_of(row) for row in rows]
    params: list[tuple[Any, ...]] = []
    append = params.append
    for row in rows:
        values = list(values_of(row))
        for i in dts:
            v = values[i]
            if v is not None:
                values[i] = v.isoformat(" ", "microseconds")
        append(tuple(values))
    return params


def by_columns(
    spec: TableSpec, rows: list[dict[str, Any]]
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The rows grouped by the columns they have (a backup from before a column was
    added lacks it), in the table's column order. A row's keys are columns of the
    table (backup_format._decode), so one with as many keys as the table has
    columns has them all."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    names = spec.names
    width = len(names)
    for row in rows:
        cols = names if len(row) == width else tuple(n for n in names if n in row)
        group = groups.get(cols)
        if group is None:
            group = groups[cols] = []
        group.append(row)
    return groups


class SqliteLater:
    """The held-back rows of some tables, one TEMP table per table and set of
    columns. The temp tables' columns have no type (no affinity): a value is kept
    as given, and the INSERT .. SELECT converts it as an INSERT of that value
    would."""

    def __init__(self, conn: Connection, specs: Sequence[TableSpec]) -> None:
        self.conn = conn
        self.quote = conn.dialect.identifier_preparer.quote
        self.specs = {spec.table.name: spec for spec in specs}
        # table name -> [(columns, temp table name)], in the order first seen
        self.temps: dict[str, list[tuple[tuple[str, ...], str]]] = {n: [] for n in self.specs}
        self.interrupted = False  # `put_back` stopped by its `cancelled` poll

    def holds(self, table: str) -> bool:
        return table in self.specs

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        spec = self.specs[table]
        for cols, group in by_columns(spec, rows).items():
            temp = self._temp(table, cols)
            marks = ", ".join("?" * len(cols))
            self.conn.exec_driver_sql(
                f"INSERT INTO temp.{temp} VALUES ({marks})", sqlite_params(spec, cols, group)
            )

    def _temp(self, table: str, cols: tuple[str, ...]) -> str:
        for known, temp in self.temps[table]:
            if known == cols:
                return temp
        temp = f"restore_later_{table}_{len(self.temps[table])}"
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{temp}")
        names = ", ".join(self.quote(c) for c in cols)
        self.conn.exec_driver_sql(f"CREATE TEMP TABLE {temp} ({names})")
        self.temps[table].append((cols, temp))
        return temp

    def put_back(self, cancelled: Callable[[], bool]) -> None:
        """Every held-back row into its table, table by table in the order given at
        the start, each by one INSERT .. SELECT in id order; the temp tables dropped.
        `cancelled()` is polled while a statement runs: True interrupts it (sqlite3's
        OperationalError "interrupted", raised as SQLAlchemy's, and `interrupted` set;
        SQLite then has rolled the transaction back). A broken constraint is
        SQLAlchemy's IntegrityError, as from an INSERT."""
        driver: Any = self.conn.connection.driver_connection

        def poll() -> int:
            self.interrupted = self.interrupted or cancelled()
            return int(self.interrupted)

        driver.set_progress_handler(poll, _POLL_EVERY)
        try:
            for table in self.specs:
                parts = self.temps[table]
                for cols, temp in parts:
                    names = ", ".join(self.quote(c) for c in cols)
                    self.conn.exec_driver_sql(
                        f"INSERT INTO {self.quote(table)} ({names}) "
                        f"SELECT {names} FROM temp.{temp} ORDER BY {self.quote('id')}"
                    )
                    self.conn.exec_driver_sql(f"DROP TABLE temp.{temp}")
                parts.clear()
        finally:
            driver.set_progress_handler(None, 0)
