"""Formula escaping for CSV cells, so a spreadsheet never runs a cell as a formula.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula
(and some strip a leading tab or carriage return first). The exporter writes
such a cell with a leading apostrophe -- the spreadsheet convention for
"this is text" -- and the importer removes it again, so export -> import is
lossless:

- export: a value starting with one of ``= + - @ TAB CR`` gets a leading ``'``;
  so does a value that starts with ``'`` followed by one of those characters
  or by another ``'`` (so that a value that really starts like an escaped cell
  survives the round trip);
- import: a cell that starts with ``'`` followed by one of ``= + - @ TAB CR '``
  loses that first ``'``; every other cell is read as written.

`unescape_cell(escape_cell(v)) == v` for every string `v` (tests pin it).
"""

from __future__ import annotations

TRIGGERS = frozenset("=+-@\t\r")
_AFTER_QUOTE = TRIGGERS | {"'"}


def escape_cell(value: str) -> str:
    """`value` made safe for a spreadsheet (see module docstring)."""
    if not value:
        return value
    first = value[0]
    if first in TRIGGERS or (first == "'" and len(value) > 1 and value[1] in _AFTER_QUOTE):
        return "'" + value
    return value


def unescape_cell(cell: str) -> str:
    """The original value of a cell written by `escape_cell`."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in _AFTER_QUOTE:
        return cell[1:]
    return cell
