"""The stage of an import: what the preview parsed, kept on disk for the import.

The TUI previews a file (a dry run) and then, on `y`, imports it. Parsing and
validating the rows is most of an import's work, so the preview keeps what it
parsed: with `import_csv(..., dry_run=True, stage=True)` each batch, exactly as
`_Run.flush` receives it (rows with their lines, parsed values and reasons,
first_index / unique, the memberships of the rows naming some) plus the raw
cells of its invalid rows (for a rejects file), is pickled (protocol 5) into a
spool: a private (0600) temporary file in the platform's temp directory. The
report's `staged` (`StagedRows`) names it. A batch is pickled in a compact form
(`_pack`: its lines as an array, its parsed fields as one string; first_index
and unique are made again on reading), about 40 % quicker to write and read
back than its tuples.

`import_csv(db, layout, staged=report.staged)` then reads the batches back one
by one (memory stays flat) instead of the CSV file, and hands them to the same
writers: the database decides every verdict again, as the import always does.
It does so only when

- the stage was made with the options that change parsing: the same layout
  (file, encoding, delimiter, mapping...), `comp_product` and batch size;
- no membership whose validity depended on the preview's clock (an expiry with
  no start: "expires in the past") has expired since;

else it reads the file as usual. Either way the file must still be the one the
preview read (size, mtime and SHA-256 of its bytes), or the import fails with
"the file changed since the preview: preview again".

The spool is deleted by `discard()` (the import does it once committed; the
dialog when it previews again or closes), when the `StagedRows` is garbage
collected, and at the latest when the process exits.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import weakref
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import IO, Any

from session_tui.data.csvio.inputs import CHANGED, CsvFormatError, check_unchanged, open_regular
from session_tui.data.csvio.reader import CsvLayout
from session_tui.data.csvio.row_parser import Parsed, Specs

# One batch as `_Run.flush` takes it, plus the invalid rows' cells and reasons.
Row = tuple[int, Parsed, str]
Record = tuple[
    list[Row],  # batch: (line, parsed, reason) in file order
    dict[str, int],  # first_index: email -> index in batch
    list[Parsed],  # unique: the valid rows whose email is new to the batch
    int,  # n_invalid
    dict[int, Specs],  # specs: index in batch -> the row's memberships
    list[tuple[list[str], str]],  # rejected: (cells as read, reason) of the invalid rows
]

_PROTOCOL = 5
_BUFFER = 1 << 20
_PREFIX = "session-tui-stage-"
# Between the fields of a batch kept as one string (`_pack`): no parsed field holds
# a control character, and `_pack` checks that none holds this one.
_SEP = "\x00"
_PACKED, _AS_IS = 0, 1


def _pack(record: Record) -> tuple[Any, ...]:
    """A batch in a compact form, quick to pickle and to read back (`_unpack`): the
    lines as an array, the parsed fields as ONE string, column after column; the
    invalid rows' reasons by index. first_index / unique are made again on reading.
    A batch with the separator in a field is kept as it is."""
    batch, _first_index, _unique, n_invalid, specs, rejected = record
    n = len(batch)
    if not n:
        return (_AS_IS, record)
    lines, parsed, reasons = zip(*batch, strict=True)
    emails, firsts, lasts, created = zip(*parsed, strict=True)
    text = _SEP.join(chain(emails, firsts, lasts, [c or "" for c in created]))
    if text.count(_SEP) != 4 * n - 1:
        return (_AS_IS, record)
    why = {i: r for i, r in enumerate(reasons) if r} if n_invalid else {}
    return (_PACKED, array("q", lines), text, why, n_invalid, specs, rejected)


def _unpack(packed: tuple[Any, ...]) -> Record:
    if packed[0] == _AS_IS:
        record: Record = packed[1]
        return record
    _, lines, text, why, n_invalid, specs, rejected = packed
    n = len(lines)
    fields = text.split(_SEP)
    emails = fields[:n]
    created = [c or None for c in fields[3 * n :]]  # a date is never ""
    parsed: list[Parsed] = list(
        zip(emails, fields[n : 2 * n], fields[2 * n : 3 * n], created, strict=True)
    )
    reasons = [""] * n
    for i, reason in why.items():
        reasons[i] = reason
    batch: list[Row] = list(zip(lines, parsed, reasons, strict=True))
    # email -> its first index among the valid rows (the reversed zip keeps the first)
    if why:
        valid = [i for i in range(n) if i not in why]
        first_index = dict(zip([emails[i] for i in reversed(valid)], reversed(valid), strict=True))
    else:
        first_index = dict(zip(reversed(emails), range(n - 1, -1, -1), strict=True))
    if len(first_index) == n:
        unique = parsed
    else:
        unique = [parsed[i] for i in sorted(first_index.values())]
    return batch, first_index, unique, n_invalid, specs, rejected


@dataclass(frozen=True)
class StageKey:
    """What parsing depends on: a stage is used only by an import with the same."""

    layout: CsvLayout
    comp_product: str
    batch_size: int


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def same_file(layout: CsvLayout) -> None:
    """CsvFormatError(CHANGED) unless the file still holds the bytes the layout pinned
    (size and mtime, then the SHA-256 of the whole file)."""
    pinned = layout.fingerprint
    if pinned is None:
        return
    check_unchanged(layout.path, pinned)
    try:
        with open_regular(layout.path) as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
    except CsvFormatError:
        raise CsvFormatError(CHANGED) from None
    except OSError as exc:
        raise CsvFormatError(f"cannot read {layout.shown_name}: {exc.strerror or exc}") from None
    if digest != pinned.sha256:
        raise CsvFormatError(CHANGED)


class StagedRows:
    """A finished stage (see the module docstring). Read it with `batches()`."""

    def __init__(
        self,
        path: str,
        key: StageKey,
        *,
        rows: int,
        size: int,
        dates_defaulted: int,
        first_expiry: datetime | None,
    ) -> None:
        self.path = path
        self.key = key
        self.rows = rows  # data rows
        self.size = size  # bytes of the spool
        self.dates_defaulted = dates_defaulted
        # The earliest expiry, among the memberships of valid rows that give no
        # start: once past, those rows may be invalid now ("expires in the past").
        self.first_expiry = first_expiry
        self._finalizer = weakref.finalize(self, _unlink, path)

    @property
    def alive(self) -> bool:
        return self._finalizer.alive

    def discard(self) -> None:
        """Delete the spool (again: nothing)."""
        self._finalizer()

    def usable_for(self, key: StageKey, now: datetime) -> bool:
        """Whether an import with these options, at `now`, may use this stage."""
        if not self.alive or key != self.key:
            return False
        if self.first_expiry is not None and self.first_expiry <= now:
            return False
        return os.path.exists(self.path)

    def batches(self) -> StageReader:
        return StageReader(self)


class StageReader:
    """The stage's batches in order; `done` / `total`: bytes of the spool (progress)."""

    def __init__(self, staged: StagedRows) -> None:
        self.staged = staged
        self.total = staged.size
        self.rows = 0
        self._file: IO[bytes] | None = None

    def __enter__(self) -> StageReader:
        try:
            self._file = open(self.staged.path, "rb", buffering=_BUFFER)  # noqa: SIM115
        except OSError as exc:
            raise _unreadable(exc.strerror or exc) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def done(self) -> int:
        return self._file.tell() if self._file is not None else self.total

    @property
    def last(self) -> bool:
        """The record given last is the stage's last."""
        return self.rows >= self.staged.rows and self.done >= self.total

    @property
    def dates_defaulted(self) -> int:
        return self.staged.dates_defaulted

    def expected_rows(self) -> int:
        return self.staged.rows

    def __iter__(self) -> Iterator[Record]:
        f = self._file
        assert f is not None
        load = pickle.load
        while self.rows < self.staged.rows or f.tell() < self.total:
            try:
                record = _unpack(load(f))
            except Exception as exc:  # noqa: BLE001 - a spool cut short or damaged
                raise _unreadable(exc) from None
            self.rows += len(record[0])
            yield record
        if self.rows != self.staged.rows:
            raise _unreadable("rows missing")


def _unreadable(why: object) -> CsvFormatError:
    return CsvFormatError(f"the preview's rows cannot be read any more ({why}): preview again")


class StageWriter:
    """Writes a stage while the preview runs; `finish()` gives the `StagedRows`,
    `abort()` deletes it (a preview that failed or was cancelled)."""

    def __init__(self, key: StageKey) -> None:
        self.key = key
        fd, self.path = tempfile.mkstemp(prefix=_PREFIX, suffix=".pickle")  # 0600
        self._finalizer = weakref.finalize(self, _unlink, self.path)
        self._file: IO[bytes] = os.fdopen(fd, "wb", buffering=_BUFFER)
        self._pickler: Any = pickle.Pickler(self._file, protocol=_PROTOCOL)
        self.rows = 0
        self.first_expiry: datetime | None = None

    def write(self, record: Record) -> None:
        try:
            self._pickler.dump(_pack(record))
        except OSError as exc:  # e.g. the temp directory is full
            raise CsvFormatError(
                f"cannot keep the preview's rows in {tempfile.gettempdir()}: {exc.strerror or exc}"
            ) from None
        # Each batch is a pickle of its own: one batch's objects in the memo at a time.
        self._pickler.clear_memo()
        self.rows += len(record[0])
        specs = record[4]
        if specs:
            batch = record[0]
            first = self.first_expiry
            for i, row_specs in specs.items():
                if batch[i][2]:
                    continue  # an invalid row stays invalid
                for spec in row_specs:
                    if spec.started is None and spec.expires is not None:
                        if first is None or spec.expires < first:
                            first = spec.expires
            self.first_expiry = first

    def finish(self, dates_defaulted: int) -> StagedRows:
        try:
            self._file.close()
        except OSError as exc:
            self.abort()
            raise CsvFormatError(f"cannot keep the preview's rows: {exc.strerror or exc}") from None
        self._finalizer.detach()
        return StagedRows(
            self.path,
            self.key,
            rows=self.rows,
            size=os.path.getsize(self.path),
            dates_defaulted=dates_defaulted,
            first_expiry=self.first_expiry,
        )

    def abort(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass
        self._finalizer()
