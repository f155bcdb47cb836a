"""The rejects file of an import: the invalid rows (contact or membership cells),
as they were read, plus why."""

from __future__ import annotations

import csv
import os
from typing import IO

from session_tui.data.csvio.files import OutputFile, TargetError, open_output
from session_tui.data.csvio.inputs import CsvFormatError
from session_tui.data.csvio.reader import CsvLayout, RowSource, is_blank, normalize_header
from session_tui.data.csvio.row_parser import RowParser
from session_tui.data.csvio.verdicts import CancelFn, ImportCancelled


class RejectsWriter:
    """Writes invalid rows: the input's own header plus a `reason` column.

    The cells are written exactly as they were read, so the file can be fixed
    and imported again. A header whose last column is already `reason` (a
    rejects file imported again) reuses that column.
    """

    def __init__(self, out: IO[str], layout: CsvLayout) -> None:
        header = list(layout.header)
        self._width = len(header)
        self._reused = bool(header) and normalize_header(header[-1]) == "reason"
        if self._reused:
            self._width -= 1
            header = header[:-1]
        self._writer = csv.writer(out, delimiter=layout.delimiter, lineterminator="\r\n")
        self._writer.writerow([*header, "reason"])
        self.count = 0

    def write(self, cells: list[str], reason: str) -> None:
        width = self._width
        if len(cells) <= width:
            self._writer.writerow([*cells, *[""] * (width - len(cells)), reason])
        else:
            # A ragged row: its extra cells follow the reason (an old reason is replaced).
            extra = cells[width + 1 :] if self._reused else cells[width:]
            self._writer.writerow([*cells[:width], reason, *extra])
        self.count += 1


def open_rejects(
    final: str | os.PathLike[str],
    layout: CsvLayout,
    *,
    db_url: str | None = None,
    follow_symlinks: bool = False,
    wait_for_reader: bool = True,
) -> OutputFile:
    """Open the rejects file `final` for writing (UTF-8, with a BOM if the input had
    one; bytes of the input that were not UTF-8 are written back as they were).

    Refused (CsvFormatError) when `final` is the input, the database `db_url` or
    one of its files, a backup, or a symbolic link without `follow_symlinks`
    (`files.check_target`). A regular file is written under a temporary name and
    renamed by `commit()`: 0600 when new, the replaced file's mode otherwise."""
    encoding = "utf-8-sig" if layout.encoding == "utf-8-sig" else "utf-8"
    try:
        return open_output(
            final,
            encoding=encoding,
            errors="surrogateescape",
            db_url=db_url,
            inputs=[layout.path],
            follow_symlinks=follow_symlinks,
            wait_for_reader=wait_for_reader,
        )
    except TargetError as exc:
        raise CsvFormatError(str(exc)) from None


def write_rejects(
    layout: CsvLayout,
    path: str | os.PathLike[str],
    cancel: CancelFn | None = None,
    *,
    db_url: str | None = None,
    follow_symlinks: bool = False,
    wait_for_reader: bool = True,
    comp_product: str | None = None,
) -> int:
    """Re-read the input and write its invalid rows to `path`; returns how many.

    Whether a row is invalid depends on the row alone, so this gives the same
    rows as the import reported -- provided the file is still the one the import
    read: it is checked (size, mtime, SHA-256) and refused when it changed.
    """
    parser = RowParser(
        layout.columns,
        lenient=layout.errors != "strict",
        mapping=layout.column_mapping,
        comp_product=comp_product,
    )
    output = open_rejects(
        path,
        layout,
        db_url=db_url,
        follow_symlinks=follow_symlinks,
        wait_for_reader=wait_for_reader,
    )
    try:
        with RowSource(layout) as source:
            writer = RejectsWriter(output.stream, layout)
            for _line, cells in source:
                result = parser.reason(cells)
                if result is not None:
                    if not parser.raw_email(cells) and is_blank(cells):
                        continue
                    writer.write(cells, result)
                    if cancel is not None and writer.count % 1000 == 0 and cancel():
                        raise ImportCancelled()
        output.commit()
    except BaseException:
        output.abort()  # a failed or cancelled write leaves nothing behind
        raise
    return writer.count
