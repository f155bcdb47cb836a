"""The stages of the import dialog, what each shows and the key hint under it."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    CHOOSE = "choose"
    MAPPING = "mapping"
    PREVIEW = "preview"
    IMPORTING = "importing"
    SUMMARY = "summary"


# The parts of the dialog each stage shows (the rest is hidden).
SHOWN_IN: dict[str, frozenset[Stage]] = {
    "#import-file-row": frozenset({Stage.CHOOSE, Stage.MAPPING, Stage.PREVIEW}),
    "#import-mapping": frozenset({Stage.MAPPING}),
    "#import-summary": frozenset({Stage.SUMMARY}),
    "#import-apply-mapping": frozenset({Stage.MAPPING}),
    "#import-confirm": frozenset({Stage.PREVIEW}),
    "#import-cancel": frozenset({Stage.CHOOSE, Stage.MAPPING, Stage.PREVIEW, Stage.IMPORTING}),
    "#import-close": frozenset({Stage.SUMMARY}),
}
HINTS = {
    Stage.CHOOSE: "tab completes the path · enter previews · escape cancels "
    "(nothing is written before you confirm)",
    Stage.MAPPING: "tab: next column · enter opens its fields, arrows choose, enter takes one · "
    "p previews with this mapping · escape cancels",
    Stage.PREVIEW: "y imports the new contacts in one transaction · escape cancels and "
    "writes nothing · edit the path and press enter for another file",
    Stage.IMPORTING: "escape cancels: the whole import is rolled back",
    Stage.SUMMARY: "enter presses the focused button · escape closes",
}
