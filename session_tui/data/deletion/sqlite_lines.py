"""SQLite restore of a genuine backup: its lines parsed by SQLite, the rows put back
by set-based INSERT .. SELECT.

A backup that session-tui wrote itself (backup_sql.py) is "plain": every line has
exactly the columns of today's tables, datetimes as `datetime.isoformat()` writes
them, normalised emails, names and payment types. For such a file the restore's
first attempt on SQLite (`restore_plain`) does not parse it in Python:

1. Python reads the file's lines (gzip), checks each contact line's shape with one
   regular expression (`PLAIN_LINE`: the keys in table order, the JSON types,
   datetimes as `isoformat()` writes them, known payment types and event kinds)
   and puts it, as text, into a TEMP table (`executemany` of one value a row); the
   header and the end marker are checked as `read_entries` checks them.
2. SQLite's `->>` takes the lines apart into TEMP tables of contacts, memberships
   and events keyed by id (one statement each), and set-based queries check what
   the expression cannot: the days exist, rows are filed under their own contact
   and membership, the products exist, the end marker's counts.
3. Python reads back each contact's email and names (the only values that need
   Python: `normalize_email`, `normalize_name`, and the derived sort key and
   search text, `collation.NamePairs`) and puts the two derived columns into a
   TEMP table by contact id.
4. One `INSERT OR ROLLBACK .. SELECT` per table, in id order, puts the rows back
   (datetimes rewritten to the text SQLAlchemy's DateTime stores on SQLite,
   "YYYY-MM-DD HH:MM:SS.ffffff"), with SQLite's foreign-key checks off for this
   transaction (the caller's `bulk_write(foreign_keys=False)`; step 2 checked
   them); the search index takes every restored contact in one statement, and the
   caller settles `active_until` from the memberships where the file's value is
   not what they give.

Anything that is not plain (a hand-edited value, an older backup without a later
column, keys in another order, a damaged line, a bad header or end marker) raises
`NotPlain` before anything is inserted, and the caller (restore.py) rolls back and
restores by the Python path, which reads the file with `read_entries` and reports
its problems in the same words as always. A row that breaks a key (an id or email
taken by now or twice in the file, a product gone) raises sqlite3's
IntegrityError: the caller rolls back and runs its careful attempt, which reads
the file and lists the problems. The two paths give the same rows:
tests/test_restore_plain.py.

Why: parsing and checking 100,000 contacts' lines in Python and binding their
rows took ~6 s of CPU (docs/performance.md, "SQLite undo, lines parsed by SQLite").
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from session_tui.data.collation import DERIVED_COLUMNS, NamePairs, fold
from session_tui.data.deletion.backup_format import (
    _EVENT_KINDS,
    _PAYMENT_TYPES,
    CONTACT,
    EVENT,
    FORMAT,
    FORMAT_VERSION,
    MEMBERSHIP,
    BackupError,
    TableSpec,
    _open_lines,
)
from session_tui.data.sqlite_bulk import CHUNK, BulkWrite, Cancelled
from session_tui.data.validation import ValidationError, normalize_email, normalize_name

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]

# SQLite virtual-machine instructions between two polls of `cancelled` while one of
# the long statements runs (as sqlite_later.py).
_POLL_EVERY = 100_000
_LINES = "restore_lines"
_C, _M, _E, _K = "restore_c", "restore_m", "restore_e", "restore_k"
_TEMPS = (_LINES, _C, _M, _E, _K)


# The progress bar (in contacts) once each step is done, in % of the whole: the
# rows going in take most of the time, the reading of the file least
# (docs/performance.md, "SQLite undo, lines parsed by SQLite").
_SHARES = {"read": 8, "split": 20, "derive": 25, "contacts": 45, "memberships": 80}


class NotPlain(Exception):
    """The file is not a plain genuine backup (or not readable as one): nothing
    was inserted; the Python path reads it (and words any problem)."""


class Interrupted(Cancelled):
    """`cancelled()` said yes while a statement ran (the caller raises its own
    RestoreCancelled)."""


@dataclass(frozen=True)
class PlainCounts:
    contacts: int
    memberships: int
    events: int
    # The restored contacts whose `active_until` in the file is not what their
    # memberships give: the caller settles them (restore.settle_active_until).
    unsettled: tuple[int, ...] = ()


def _names(spec: TableSpec) -> list[str]:
    return [n for n in spec.names if n not in DERIVED_COLUMNS]


def _stored(expr: str) -> str:
    """A plain datetime text (`_DT`) as SQLAlchemy's DateTime stores it on SQLite:
    "T" to " ", microseconds always (NULL stays NULL)."""
    return (
        f"(substr({expr}, 1, 10) || ' ' || substr({expr}, 12, 8) || "
        f"CASE WHEN length({expr}) = 19 THEN '.000000' ELSE substr({expr}, 20) END)"
    )


# -- what a plain line is: a regular expression, from the tables' columns ---------------

# A JSON string (any character but '"', '\\' and control characters; the escapes of
# JSON, but not an escaped UTF-16 surrogate, which Python and SQLite read differently).
_STR = (
    r'"[^"\\\x00-\x1f]*'
    r'(?:\\(?:["\\/bfnrt]|u(?![dD][89a-fA-F])[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"'
)
_INT = r"-?(?:0|[1-9][0-9]{0,17})"  # a 64-bit integer for sure
# What `datetime.isoformat()` writes for a naive datetime: seconds always,
# microseconds when not zero; year 1 on, a real time of day. Whether the day exists
# (not 30 February) is checked in SQL (`_day_exists`).
_DT = (
    r'"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])'
    r'T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.(?!000000)[0-9]{6})?"'
)


def _one_of(values: frozenset[str]) -> str:
    return '"(?:' + "|".join(re.escape(v) for v in sorted(values)) + ')"'


def _object(spec: TableSpec, extra: str = "") -> str:
    """An object with exactly the table's columns (not the derived ones), in table
    order, each with a value of its column's type (or null where allowed)."""
    parts = []
    for name in _names(spec):
        col = spec.table.c[name]
        if name in spec.datetimes:
            value = _DT
        elif name == "payment_type":
            value = _one_of(_PAYMENT_TYPES)
        elif name == "kind":
            value = _one_of(_EVENT_KINDS)
        elif getattr(col.type, "python_type", str) is int:
            value = _INT
        else:
            value = _STR
        if col.nullable:
            value = f"(?:{value}|null)"
        parts.append(f'"{name}":{value}')
    return r"\{" + ",".join(parts) + extra + r"\}"


def _list(item: str) -> str:
    return rf"\[(?:{item}(?:,{item})*)?\]"


_EVENT_OBJECT = _object(EVENT)
_MEMBERSHIP_OBJECT = _object(MEMBERSHIP, ',"events":' + _list(_EVENT_OBJECT))
PLAIN_LINE = re.compile(
    r'\{"contact":'
    + _object(CONTACT)
    + ',"memberships":'
    + _list(_MEMBERSHIP_OBJECT)
    + r"\}[ \t\r\n]*"
)


def _day_exists(expr: str) -> str:
    """SQL: the day of a plain datetime text exists (SQLite's date() with a modifier
    moves 30 February on to March; without one it gives the text back); true for
    NULL."""
    day = f"substr({expr}, 1, 10)"
    return f"({expr} IS NULL OR date({day}, '+0 days') IS {day})"


class PlainRestore:
    """One plain restore inside the caller's bulk transaction (`bulk`: the search
    index's INSERT trigger paused, temporary storage in a file)."""

    def __init__(self, bulk: BulkWrite, path: Path) -> None:
        self.bulk = bulk
        self.cur = bulk.cursor()
        self.driver: Any = bulk.conn.connection.driver_connection
        self.path = path
        self.header: dict[str, Any] = {}
        self.end: dict[str, Any] | None = None
        self.unsettled: list[int] = []

    def _exec(self, sql: str, params: Any = ()) -> Any:
        return self.cur.execute(sql, params)

    def _one(self, sql: str) -> Any:
        return self._exec(sql).fetchone()[0]

    # -- 1. the lines ------------------------------------------------------------

    def load(self, progress: ProgressFn | None, cancelled: CancelFn | None) -> int:
        """Every contact line into the lines table; the number of contacts."""
        for name in _TEMPS:
            self._exec(f"DROP TABLE IF EXISTS temp.{name}")
        self._exec(f"CREATE TEMP TABLE {_LINES} (n INTEGER PRIMARY KEY, line TEXT NOT NULL)")
        insert = f"INSERT INTO temp.{_LINES} VALUES (?, ?)"
        batch: list[tuple[int, str]] = []
        done = 0
        expected = 0
        plain = PLAIN_LINE.fullmatch
        try:
            for number, line in self._lines():
                if not self.header:  # the first line that is not blank
                    self._header(line)
                    expected = int(self.header.get("requested") or 0)
                    continue
                if self.end is not None:
                    raise NotPlain("data after the end marker")
                if line.startswith('{"contact":{'):
                    if plain(line) is None:
                        raise NotPlain(f"line {number}")  # the Python path reads it
                    batch.append((number, line))
                    done += 1
                    if done % CHUNK == 0:
                        if cancelled is not None and cancelled():
                            raise Interrupted()
                        self.cur.executemany(insert, batch)
                        batch = []
                        if progress is not None:
                            total = max(expected, done)
                            progress(done * _SHARES["read"] // 100, total)
                    continue
                if line.startswith('{"end":'):
                    self._end(line)
                    continue
                raise NotPlain(f"line {number}")
        except BackupError as exc:
            raise NotPlain(str(exc)) from None
        if batch:
            self.cur.executemany(insert, batch)
        if not self.header or self.end is None:
            raise NotPlain("no header or no end marker")
        return done

    def _lines(self) -> Iterator[tuple[int, str]]:
        for number, line in _open_lines(self.path):
            if line.strip():
                yield number, line

    def _header(self, line: str) -> None:
        self.header = self._check_header(line)

    @staticmethod
    def _check_header(line: str) -> dict[str, Any]:
        try:
            obj = json.loads(line)
        except ValueError:
            raise NotPlain("header") from None
        if (
            not isinstance(obj, dict)
            or obj.get("format") != FORMAT
            or obj.get("version") != FORMAT_VERSION
        ):
            raise NotPlain("header")
        return obj

    def _end(self, line: str) -> None:
        try:
            obj = json.loads(line)
        except ValueError:
            raise NotPlain("end marker") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("end"), dict):
            raise NotPlain("end marker")
        self.end = obj["end"]

    # -- 2. taken apart and checked ------------------------------------------------

    def split(self) -> PlainCounts:
        """The contacts, memberships and events of the lines into their TEMP tables,
        checked (NotPlain: something is not as session-tui writes it). Each line has
        the shape of a plain one (`PLAIN_LINE`); left to check are the days, each
        row filed under its own contact or membership, the products, and the end
        marker's counts. An id twice breaks a TEMP table's key, an email twice the
        contact table's: sqlite3's IntegrityError, as a taken id or email."""
        c_names, m_names, e_names = _names(CONTACT), _names(MEMBERSHIP), _names(EVENT)
        self._stage(
            _C,
            {n: f"line ->> '$.contact.{n}'" for n in c_names},
            f"temp.{_LINES}",
        )
        self._stage(
            _M,
            {"owner": "line ->> '$.contact.id'"} | {n: f"j.value ->> '{n}'" for n in m_names},
            f"temp.{_LINES}, json_each(line, '$.memberships') j",
        )
        self._stage(
            _E,
            {"owner": "j.value ->> 'id'"} | {n: f"e.value ->> '{n}'" for n in e_names},
            f"temp.{_LINES}, json_each(line, '$.memberships') j, json_each(j.value, '$.events') e",
        )
        checks = [
            (_C, CONTACT, "1"),
            (_M, MEMBERSHIP, "contact_id = owner"),
            (_E, EVENT, "membership_id = owner"),
        ]
        for table, spec, filed in checks:
            days = " AND ".join(_day_exists(n) for n in spec.datetimes)
            bad = self._one(f"SELECT count(*) FROM temp.{table} WHERE NOT ({filed} AND {days})")
            if bad:
                raise NotPlain(f"{bad} {spec.table.name} row(s)")
        # The foreign keys, which SQLite does not check during this restore: every
        # membership is filed under its line's contact and every event under its
        # membership (checked above), so only the products are left.
        if self._one(
            f"SELECT count(*) FROM temp.{_M} WHERE product_id NOT IN (SELECT id FROM product)"
        ):
            raise sqlite3.IntegrityError("FOREIGN KEY constraint failed: a product is gone")
        counts = PlainCounts(
            contacts=self._one(f"SELECT count(*) FROM temp.{_C}"),
            memberships=self._one(f"SELECT count(*) FROM temp.{_M}"),
            events=self._one(f"SELECT count(*) FROM temp.{_E}"),
        )
        assert self.end is not None
        got = [self.end.get(k) for k in ("contacts", "memberships", "events")]
        if got != [counts.contacts, counts.memberships, counts.events]:
            raise NotPlain("end marker counts")
        return counts

    def _stage(self, table: str, values: dict[str, str], source: str) -> None:
        """A TEMP table of these columns (SQL expressions over `source`), keyed by
        `id`: the rows go in by it, and come out by it without a sort. An id twice
        is sqlite3's IntegrityError: the careful attempt then reads the file and
        says which (`read_entries`). The other columns have no type, so a value is
        kept as extracted."""
        names = list(values)
        cols = ", ".join("id INTEGER PRIMARY KEY" if n == "id" else n for n in names)
        self._exec(f"CREATE TEMP TABLE {table} ({cols})")
        self._exec(
            f"INSERT INTO temp.{table} ({', '.join(names)}) "
            f"SELECT {', '.join(values.values())} FROM {source}"
        )

    # -- 3. what only Python can work out ----------------------------------------

    def derive(self) -> None:
        """Check each contact's email and names as import and edit do (a plain file
        needs no change), and put its sort key and search text into a TEMP table."""
        self._exec(f"CREATE TEMP TABLE {_K} (id INTEGER PRIMARY KEY, name_key, search_text)")
        reader = self.driver.cursor()
        pairs = NamePairs()
        names: dict[str, bool] = {}  # a name: whether it is normalised already
        insert = f"INSERT INTO temp.{_K} VALUES (?, ?, ?)"
        try:
            reader.execute(f"SELECT id, email, first_name, last_name FROM temp.{_C} ORDER BY id")
            while rows := reader.fetchmany(CHUNK * 2):
                out = []
                for contact_id, email, first, last in rows:
                    for name, field in ((first, "first_name"), (last, "last_name")):
                        if name not in names:
                            if len(names) >= 1 << 16:
                                names.clear()
                            names[name] = normalize_name(name, field) == name
                        if not names[name]:
                            raise NotPlain("a name to normalise")
                    if normalize_email(email) != email:
                        raise NotPlain("an email to normalise")
                    key, prefix = pairs.known.get((first, last)) or pairs.add(first, last)
                    out.append((contact_id, key, prefix + fold(email)))
                self.cur.executemany(insert, out)
        except ValidationError:
            raise NotPlain("an invalid email or name") from None
        except UnicodeError:
            raise NotPlain("text that is not UTF-8") from None
        finally:
            reader.close()

    # -- 4. the rows back ------------------------------------------------------------

    def insert(self, stage: Callable[[str], None]) -> None:
        """Every row into its table (sqlite3.IntegrityError: a constraint of the
        database broken), the search index; `unsettled`: the contacts whose
        `active_until` the caller must settle (restore.settle_active_until); the
        TEMP tables dropped."""
        self._put(
            CONTACT,
            f"temp.{_C} c JOIN temp.{_K} k ON k.id = c.id",
            {"name_key": "k.name_key", "search_text": "k.search_text"},
            "c.",
        )
        stage("contacts")
        self._put(MEMBERSHIP, f"temp.{_M}", {}, "")
        stage("memberships")
        self._put(EVENT, f"temp.{_E}", {}, "")
        self.bulk.index_where(f"id IN (SELECT id FROM temp.{_K})")
        self.unsettled = [r[0] for r in self._exec(self._unsettled_sql()).fetchall()]
        for name in _TEMPS:
            self._exec(f"DROP TABLE IF EXISTS temp.{name}")

    def _put(self, spec: TableSpec, source: str, derived: dict[str, str], alias: str) -> None:
        names = list(spec.names)
        values = []
        for n in names:
            if n in derived:
                values.append(derived[n])
            elif n in spec.datetimes:
                values.append(_stored(alias + n))
            else:
                values.append(alias + n)
        # OR ROLLBACK: a row that breaks a constraint ends the whole transaction at
        # once (the caller then takes the careful path), so SQLite keeps no statement
        # journal of the pages the statement changes (in a file during a restore).
        self._exec(
            f"INSERT OR ROLLBACK INTO {spec.table.name} ({', '.join(names)}) "
            f"SELECT {', '.join(values)} FROM {source} ORDER BY {alias}id"
        )

    def _unsettled_sql(self) -> str:
        """The restored contacts whose `active_until` in the file is not the max of
        their memberships' ends (cancelled, else expires, else FAR_FUTURE; NULL with
        no membership): `expected_active_until`, on the stored texts."""
        from session_tui.data.clock import FAR_FUTURE

        far = FAR_FUTURE.isoformat(" ", "microseconds")
        end = f"coalesce({_stored('cancelled_at')}, {_stored('expires_at')}, '{far}')"
        # One pass over the memberships grouped by contact, each group's contact
        # found by its key (CROSS JOIN: in this order), then the contacts with no
        # membership; a subquery per contact would scan the TEMP table each time.
        ends = f"SELECT contact_id, max({end}) AS last FROM temp.{_M} GROUP BY contact_id"
        return (
            f"SELECT c.id FROM ({ends}) x CROSS JOIN temp.{_C} c ON c.id = x.contact_id "
            f"WHERE {_stored('c.active_until')} IS NOT x.last "
            f"UNION ALL SELECT c.id FROM temp.{_C} c WHERE c.active_until IS NOT NULL "
            f"AND c.id NOT IN (SELECT contact_id FROM temp.{_M})"
        )


def is_plain_header(path: Path) -> bool:
    """Whether the file at `path` opens with a backup header of this version (read
    before the restore takes the write lock)."""
    try:
        for _number, line in _open_lines(path):
            if line.strip():
                PlainRestore._check_header(line)
                return True
    except (BackupError, NotPlain):
        return False
    return False


def restore_plain(
    bulk: BulkWrite,
    path: Path,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
) -> PlainCounts:
    """Restore the plain backup at `path` in `bulk`'s transaction (not committed).
    NotPlain: nothing inserted, roll back and take the Python path; sqlite3's
    IntegrityError: a constraint broken, roll back and take the careful path;
    Interrupted: `cancelled()` said yes (polled between chunks of lines and while a
    statement runs; SQLite has then rolled the transaction back)."""
    plain = PlainRestore(bulk, path)
    stop = False

    def poll() -> int:
        nonlocal stop
        stop = stop or bool(cancelled is not None and cancelled())
        return int(stop)

    def stage(name: str, contacts: int) -> None:
        if progress is not None:
            progress(contacts * _SHARES[name] // 100, contacts)

    plain.driver.set_progress_handler(poll, _POLL_EVERY)
    try:
        plain.load(progress, cancelled)
        counts = plain.split()
        stage("split", counts.contacts)
        plain.derive()
        stage("derive", counts.contacts)
        plain.insert(lambda name: stage(name, counts.contacts))
    except (sqlite3.OperationalError, OperationalError):
        if stop:
            raise Interrupted() from None
        raise
    finally:
        plain.driver.set_progress_handler(None, 0)
        plain.cur.close()
    return replace(counts, unsettled=tuple(plain.unsettled))


__all__ = ["Interrupted", "NotPlain", "PlainCounts", "is_plain_header", "restore_plain"]
