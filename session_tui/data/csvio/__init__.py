"""CSV import and export of contacts and their memberships. No Textual here.

- `reader`: encoding/delimiter detection, header mapping, streaming rows;
- `importer`: preview (dry run), verdicts, rejects file, the one-transaction import;
- `import_memberships`: the memberships a file names, written in that transaction;
- `exporter`: the current filter / selection / segment to a file or stdout;
- `escaping`: the formula-escaping scheme shared by both directions;
- `files`: how export and rejects files are created (0600, or the replaced file's mode).
"""

from session_tui.data.csvio.escaping import escape_cell, unescape_cell
from session_tui.data.csvio.importer import (
    VERDICT_LABELS,
    ImportCancelled,
    ImportReport,
    Progress,
    RowVerdict,
    Verdict,
    import_csv,
    preview_csv,
    write_rejects,
)
from session_tui.data.csvio.inputs import CsvFormatError
from session_tui.data.csvio.reader import CsvLayout, sniff

__all__ = [
    "VERDICT_LABELS",
    "CsvFormatError",
    "CsvLayout",
    "ImportCancelled",
    "ImportReport",
    "Progress",
    "RowVerdict",
    "Verdict",
    "escape_cell",
    "import_csv",
    "preview_csv",
    "sniff",
    "unescape_cell",
    "write_rejects",
]
