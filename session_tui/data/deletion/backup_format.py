"""The deletion backup file: writing its lines and reading them back, validated.

Backup file format (version 1)
------------------------------
gzip-compressed JSON Lines (UTF-8), named
`deleted-YYYYmmdd-HHMMSS-<N>-contacts-<token>.jsonl.gz`, mode 0600 in a 0700
directory. Read it with `zcat`; a decompressed `.jsonl` restores too.

- line 1, the header:
  `{"format": "session-tui-deletion-backup", "version": 1, "created_at": ISO,
  "database": URL without password, "requested": N}`
- one line per deleted contact, parents before children:
  `{"contact": {every column of contact},
    "memberships": [{every column of membership, "events": [{every column of
    membership_event}, ...]}, ...]}`
- the last line, the trailer: `{"end": {"contacts": n, "memberships": m, "events": k}}`.
  A file without it was cut short and is refused.

Datetimes are naive UTC in ISO 8601 (`2026-01-05T14:23:01`), NULL is `null`.
The file is written and read one contact at a time, so 100,000 contacts never
need one big in-memory document.
"""

from __future__ import annotations

import gzip
import io
import json
import secrets
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, DateTime, Table

from session_tui import locations
from session_tui.data.collation import NamePairs, fold
from session_tui.data.repositories.memberships import normalize_payment_type
from session_tui.data.tables import EventKind, PaymentType, contact_t, event_t, membership_t
from session_tui.data.validation import ValidationError, normalize_email, normalize_name

FORMAT = "session-tui-deletion-backup"
FORMAT_VERSION = 1
GZIP_LEVEL = 3  # fast; the backup must not make deleting slow


class BackupError(Exception):
    """A backup file is missing, unreadable or corrupt. The message is for the user."""


# -- rows <-> JSON ----------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """How one table's rows go into a backup record and come back out of it."""

    table: Table
    names: tuple[str, ...]
    datetimes: tuple[str, ...]
    required: frozenset[str]  # must be in a backup record (others may be missing: added later)
    allowed: frozenset[str]  # may be in a backup record: the columns, and "events"


def _spec(table: Table) -> TableSpec:
    return TableSpec(
        table=table,
        names=tuple(c.name for c in table.columns),
        datetimes=tuple(c.name for c in table.columns if isinstance(c.type, DateTime)),
        required=frozenset(
            c.name for c in table.columns if not c.nullable and c.server_default is None
        ),
        allowed=frozenset(c.name for c in table.columns) | {"events"},
    )


CONTACT = _spec(contact_t)
MEMBERSHIP = _spec(membership_t)
EVENT = _spec(event_t)


def fetch_rows(conn: Connection, stmt: Any, spec: TableSpec) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (datetimes as ISO strings)."""
    result = conn.execute(stmt)
    keys = list(result.keys())
    dt_index = [i for i, k in enumerate(keys) if k in spec.datetimes]
    out: list[dict[str, Any]] = []
    for row in result:
        values = list(row)
        for i in dt_index:
            v = values[i]
            if v is not None:
                values[i] = v.isoformat()
        out.append(dict(zip(keys, values, strict=True)))
    return out


def _decode(spec: TableSpec, record: Any, where: str) -> dict[str, Any]:
    """A row dict for the spec's table from a backup record; BackupError if malformed."""
    if not isinstance(record, dict):
        raise BackupError(f"{where}: expected an object")
    name = spec.table.name
    keys = record.keys()
    if not keys <= spec.allowed:
        unknown = keys - spec.allowed
        raise BackupError(
            f"{where}: unknown {name} column(s) {', '.join(sorted(unknown))} "
            "(a backup from a newer session-tui?)"
        )
    if not spec.required <= keys:
        missing = spec.required - keys
        raise BackupError(f"{where}: missing {name}.{sorted(missing)[0]}")
    # A record of columns only (every contact and event; a membership holds its
    # events too) is the row itself: no copy (no reader minds the order of its keys).
    out = record if "events" not in keys else {n: record[n] for n in spec.names if n in record}
    for n in spec.datetimes:
        v = out.get(n)
        if v is not None:
            try:
                out[n] = datetime.fromisoformat(v)
            except (TypeError, ValueError):
                raise BackupError(f"{where}: {name}.{n} is not a date") from None
    if not isinstance(out["id"], int):
        raise BackupError(f"{where}: {name}.id is not a number")
    return out


_EVENT_KINDS = frozenset(k.value for k in EventKind)


def _text(record: dict[str, Any], name: str, where: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BackupError(f"{where}: {name} is not text")
    return value


class _Normalizer:
    """The same validation and normalisation as import and edit (a hand-edited
    backup is input like any other): the email trimmed, lower-cased and valid, names
    without control characters and at most MAX_NAME long, the payment type one of
    the known ones. A genuine backup holds normalised values, so this changes
    nothing in it. BackupError names the line.

    Names repeat a lot in a real file (a few thousand distinct first and last names
    in 100,000 contacts): a name's normalised form and a (first, last) pair's sort
    key and search prefix (collation.NamePairs) are worked out once and looked up
    after that -- the same function of the same text, so the same values."""

    _LIMIT = 1 << 16  # names kept (then forgotten, and worked out again)

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.pairs = NamePairs()

    def _name(self, value: str, field: str) -> str:
        known = self.names.get(value)
        if known is None:
            known = normalize_name(value, field)  # ValidationError: nothing kept
            if len(self.names) >= self._LIMIT:
                self.names.clear()
            self.names[value] = known
        return known

    def contact(self, contact: dict[str, Any], where: str) -> dict[str, Any]:
        try:
            email = contact["email"] = normalize_email(_text(contact, "email", where))
            first = contact["first_name"] = self._name(
                _text(contact, "first_name", where), "first_name"
            )
            last = contact["last_name"] = self._name(
                _text(contact, "last_name", where), "last_name"
            )
        except ValidationError as exc:
            raise BackupError(f"{where}: {exc.message}") from None
        key, prefix = self.pairs.known.get((first, last)) or self.pairs.add(first, last)
        contact["name_key"] = key
        contact["search_text"] = prefix + fold(email)
        return contact

    @staticmethod
    def membership(m: dict[str, Any], where: str) -> dict[str, Any]:
        value = m.get("payment_type")
        if value.__class__ is str and value in _PAYMENT_TYPES:
            return m  # already a normalised payment type
        try:
            m["payment_type"] = normalize_payment_type(_text(m, "payment_type", where)).value
        except ValidationError as exc:
            raise BackupError(f"{where}: {exc.message}") from None
        return m


_PAYMENT_TYPES = frozenset(t.value for t in PaymentType)


# -- writing ------------------------------------------------------------------------


def backup_name(count: int, when: datetime) -> str:
    """The finished backup's file name (the token keeps two deletes in one second apart)."""
    noun = "contact" if count == 1 else "contacts"
    return f"deleted-{when:%Y%m%d-%H%M%S}-{count}-{noun}-{secrets.token_hex(3)}.jsonl.gz"


def dumps(obj: Any) -> str:
    """One line of the file (compact JSON, UTF-8 text as it is)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# -- reading a backup ------------------------------------------------------------------


@dataclass
class Entry:
    contact: dict[str, Any]
    memberships: list[dict[str, Any]]
    events: list[dict[str, Any]]  # of all its memberships


@dataclass
class BackupInfo:
    """What a pass over a backup file learns (it also validates the whole file)."""

    path: Path
    header: dict[str, Any]
    contacts: int = 0
    memberships: int = 0
    events: int = 0
    emails: list[str] = field(default_factory=list)


def _unreadable(path: Path, exc: OSError) -> str:
    """Why the backup file at `path` cannot be opened, for the user."""
    if isinstance(exc, FileNotFoundError):
        return f"no such backup file: {path}"
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a directory, not a backup file"
    return f"cannot read {path}: {exc.strerror or exc}"


def _open_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise BackupError(_unreadable(path, exc)) from None
    with fh:
        magic = fh.read(2)
        fh.seek(0)
        stream: Any = gzip.GzipFile(fileobj=fh, mode="rb") if magic == b"\x1f\x8b" else fh
        reader = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        try:
            yield from enumerate(reader, start=1)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            raise BackupError(f"{path} is damaged or not a session-tui backup ({exc})") from None


# Ids from 0 up to this are marked in a bitmap (at most 8 MiB a kind); others, which
# only a hand-edited file holds, go to a set.
_BITMAP_IDS = 1 << 26


class _IdSet:
    """The ids seen so far, as bits: no Python object per id."""

    __slots__ = ("bits", "others")

    def __init__(self) -> None:
        self.bits = bytearray()
        self.others: set[int] = set()

    def add(self, value: int) -> bool:
        """Mark `value`; False when it was marked already."""
        if not 0 <= value < _BITMAP_IDS:
            if value in self.others:
                return False
            self.others.add(value)
            return True
        byte, bit = value >> 3, 1 << (value & 7)
        bits = self.bits
        if byte >= len(bits):
            bits.extend(bytes(max(byte + 1, 2 * len(bits)) - len(bits)))
        if bits[byte] & bit:
            return False
        bits[byte] |= bit
        return True


class _TextSet:
    """The texts seen so far, without a Python object per text: their UTF-8 bytes
    one after another in one buffer, found again by an open-addressing table of
    their hashes (arrays of machine integers). Equal hashes are told apart by
    comparing the bytes: exact, as a set of the texts is."""

    __slots__ = ("blob", "ends", "hashes", "slots")

    def __init__(self) -> None:
        self.blob = bytearray()
        self.ends = array("q", [0])  # text k is blob[ends[k]:ends[k + 1]]
        self.hashes = array("q")  # of text k
        self.slots = array("q", bytes(8 * 1024))  # k + 1, or 0 for a free slot

    def add(self, value: str) -> bool:
        """Keep `value`; False when an equal text was kept already."""
        data = value.encode("utf-8", "surrogatepass")
        h = hash(value)
        slots, ends, blob = self.slots, self.ends, self.blob
        mask = len(slots) - 1
        i = h & mask
        while k := slots[i]:
            k -= 1
            if self.hashes[k] == h and blob[ends[k] : ends[k + 1]] == data:
                return False
            i = (i + 1) & mask
        slots[i] = len(self.hashes) + 1
        self.hashes.append(h)
        blob += data
        ends.append(len(blob))
        if 3 * len(self.hashes) > 2 * len(slots):
            self._grow()
        return True

    def _grow(self) -> None:
        slots = array("q", bytes(16 * len(self.slots)))
        mask = len(slots) - 1
        for k, h in enumerate(self.hashes):
            i = h & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = k + 1
        self.slots = slots


class _Seen:
    """Duplicate detection and the end marker's counts check while streaming.

    What it keeps for the whole file (every contact id, email, membership and event
    id: 100,000 contacts hold ~400,000) is in compact form (`_IdSet`, `_TextSet`),
    not as Python objects: those, kept to the end, held on to the memory of every
    batch the restore had parsed and freed (docs/performance.md, "Memory after
    delete and undo, fourth round")."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.contact_ids = _IdSet()
        self.emails = _TextSet()
        self.membership_ids = _IdSet()
        self.event_ids = _IdSet()
        self.counts = [0, 0, 0]

    def _twice(self, label: str, value: Any) -> BackupError:
        return BackupError(f"{self.path} is damaged: {label} {value} appears twice")

    def add(self, entry: Entry) -> None:
        contact_id = entry.contact["id"]
        if not self.contact_ids.add(contact_id):
            raise self._twice("contact id", contact_id)
        email = entry.contact["email"]
        if not self.emails.add(email):
            raise self._twice("email", email)
        for label, rows, ids in (
            ("membership id", entry.memberships, self.membership_ids),
            ("event id", entry.events, self.event_ids),
        ):
            for row in rows:
                if not ids.add(row["id"]):
                    raise self._twice(label, row["id"])
        self.counts[0] += 1
        self.counts[1] += len(entry.memberships)
        self.counts[2] += len(entry.events)

    def check_end(self, end: dict[str, Any]) -> None:
        got = [end.get(k) for k in ("contacts", "memberships", "events")]
        if got != self.counts:
            raise BackupError(
                f"{self.path} is damaged: its end marker counts {tuple(got)}, "
                f"the file holds {tuple(self.counts)}"
            )


def read_entries(path: Path) -> Iterator[tuple[str, Any]]:
    """("header", dict), then ("entry", Entry) per contact, then ("end", dict).

    Raises BackupError for anything malformed: bad JSON, a duplicate id, a missing
    end marker or one whose counts disagree with the file.
    """
    seen_header = False
    trailer: dict[str, Any] | None = None
    seen = _Seen(path)
    normalize = _Normalizer()
    file_name = path.name
    for number, line in _open_lines(path):
        where = f"{file_name}, line {number}"
        if not line.strip():
            continue
        if trailer is not None:
            raise BackupError(f"{path} is damaged: data after the end marker (line {number})")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if not seen_header:
                raise BackupError(f"{path} is not a session-tui deletion backup") from None
            raise BackupError(f"{path} is damaged: line {number} is not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise BackupError(f"{where}: expected an object")
        if not seen_header:
            if obj.get("format") != FORMAT:
                raise BackupError(f"{path} is not a session-tui deletion backup")
            if obj.get("version") != FORMAT_VERSION:
                raise BackupError(
                    f"{path} has backup format version {obj.get('version')!r}; "
                    f"this session-tui reads version {FORMAT_VERSION}"
                )
            seen_header = True
            yield "header", obj
            continue
        if "end" in obj:
            if not isinstance(obj["end"], dict):
                raise BackupError(f"{where}: malformed end marker")
            trailer = obj["end"]
            continue
        contact = normalize.contact(_decode(CONTACT, obj.get("contact"), where), where)
        memberships: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        raw_memberships = obj.get("memberships", [])
        if not isinstance(raw_memberships, list):
            raise BackupError(f"{where}: memberships is not a list")
        for raw_m in raw_memberships:
            m = normalize.membership(_decode(MEMBERSHIP, raw_m, where), where)
            if m["contact_id"] != contact["id"]:
                raise BackupError(f"{where}: a membership belongs to another contact")
            memberships.append(m)
            raw_events = raw_m.get("events", [])
            if not isinstance(raw_events, list):
                raise BackupError(f"{where}: events is not a list")
            for raw_e in raw_events:
                e = _decode(EVENT, raw_e, where)
                if e["kind"] not in _EVENT_KINDS:
                    raise BackupError(f"{where}: unknown history event kind {e['kind']!r}")
                if e["membership_id"] != m["id"]:
                    raise BackupError(f"{where}: an event belongs to another membership")
                events.append(e)
        entry = Entry(contact, memberships, events)
        seen.add(entry)
        yield "entry", entry
    if not seen_header:
        raise BackupError(f"{path} is empty: not a session-tui deletion backup")
    if trailer is None:
        raise BackupError(f"{path} is incomplete: it ends before its end marker (cut short?)")
    seen.check_end(trailer)
    yield "end", trailer


def inspect_backup(path: str | Path) -> BackupInfo:
    """Read and validate a whole backup file (without touching any database)."""
    p = Path(path)
    info = BackupInfo(path=p, header={})
    for kind, item in read_entries(p):
        if kind == "header":
            info.header = item
        elif kind == "entry":
            info.contacts += 1
            info.memberships += len(item.memberships)
            info.events += len(item.events)
            info.emails.append(item.contact["email"])
    return info


def list_backups(folder: Path | None = None) -> list[Path]:
    """Backup files in the backups directory, newest first."""
    base = folder if folder is not None else locations.backups_dir()
    return sorted(base.glob("deleted-*.jsonl*"), key=lambda p: p.stat().st_mtime, reverse=True)
