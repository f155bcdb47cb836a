"""How the import dialog reads a file: which column holds what, and a few values of
each column for the mapping step. Run in the dialog's thread (they read the file).

- `open_layout(path)`: the file's layout -- with the mapping remembered for its
  header set when there is one (`recall`), else as its header names say. When no
  column is recognised as the email and nothing is remembered, `NoEmailColumn`
  (its `proposal` is what the mapping step starts from).
- `mapped_layout(path, mapping)`: the layout with the user's mapping, which is
  remembered for the next file with the same header set.
- `column_samples(...)`: the first non-empty values of every column.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from session_tui.data.csvio import CsvLayout, sniff
from session_tui.data.csvio.mapping import ColumnMapping, recall, remember
from session_tui.data.csvio.reader import NoEmailColumn, RowSource, is_blank

SAMPLE_VALUES = 3  # values shown per column in the mapping step
SAMPLE_ROWS = 20  # rows read at most to find them


@dataclass(frozen=True)
class Opened:
    """A file's layout, and how its columns were mapped."""

    layout: CsvLayout
    recalled: bool = False  # the user's mapping from last time (same header set)
    remembered: bool = False  # the user's mapping, just made and kept for next time
    note: str = ""  # why the mapping could not be kept, if so


@dataclass(frozen=True)
class Unmapped:
    """A file whose columns the user is to map: `proposal` to start from, and the
    first values of each column."""

    path: str
    proposal: ColumnMapping
    samples: tuple[tuple[str, ...], ...]


def open_layout(path: str) -> Opened:
    """The layout of `path`, a remembered mapping applied (NoEmailColumn: map it)."""
    try:
        layout = sniff(path)
    except NoEmailColumn as exc:
        remembered = recall(exc.proposal.header)
        if remembered is None:
            raise
        return Opened(sniff(path, mapping=remembered), recalled=True)
    remembered = recall(layout.header)
    if remembered is None:
        return Opened(layout)
    if remembered == layout.column_mapping:
        return Opened(layout, recalled=True)
    return Opened(sniff(path, mapping=remembered), recalled=True)


def mapped_layout(path: str, mapping: ColumnMapping) -> Opened:
    """The layout of `path` read with `mapping`, which is remembered for its header set."""
    layout = sniff(path, mapping=mapping)
    try:
        remember(mapping)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Opened(layout, note=f"The mapping could not be kept for next time: {reason}")
    return Opened(layout, remembered=True)


def column_samples(
    path: str, header: tuple[str, ...], layout: CsvLayout | None = None
) -> tuple[tuple[str, ...], ...]:
    """Up to `SAMPLE_VALUES` non-empty values per column of the file's first rows.

    `layout`: the file as previewed (else it is read with the first column taken
    for the email: only to split its rows, no row is judged here)."""
    if layout is None:
        reading = ColumnMapping.empty(header).with_field(0, "email")
        layout = sniff(path, mapping=reading)
    values: list[list[str]] = [[] for _ in header]
    with RowSource(layout) as rows:
        for _line, cells in islice(rows, SAMPLE_ROWS):
            if is_blank(cells):
                continue
            for index, cell in enumerate(cells[: len(header)]):
                if cell.strip() and len(values[index]) < SAMPLE_VALUES:
                    values[index].append(cell.strip())
            if all(len(found) >= SAMPLE_VALUES for found in values):
                break
    return tuple(tuple(found) for found in values)
