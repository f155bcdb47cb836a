"""The import dialog (`i` on Contacts): see modal.py."""

from session_tui.ui.modals.import_csv.modal import ImportCsvModal
from session_tui.ui.modals.import_csv.stages import Stage
from session_tui.ui.modals.import_csv.texts import ImportOutcome

__all__ = ["ImportCsvModal", "ImportOutcome", "Stage"]
