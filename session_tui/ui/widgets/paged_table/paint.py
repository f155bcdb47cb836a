"""Building table lines as Segments, without Rich Text.

A row is a list of runs `(text, kind)`; a kind names the style of the Rich span the
text would have in a `Text`: none (the row style only), the selection mark, dim, or
a style of the table's own (`FIRST_EXTRA` on). `fit` and `fit_pieces` cut or pad a
cell exactly as `Text.truncate(width, overflow="ellipsis", pad=True)` does, with the
same Rich function (`set_cell_size`), and `runs_strip` joins the runs into a Strip
with the styles a `Text` rendered by `Text.render` + `Strip.apply_style` would get.
Building Segments directly is several times faster than a Text per row, and a
table repaints every visible row after every keystroke of a search.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from session_tui.ui.widgets.paged_table.source import Column

Run = tuple[str, int]

PLAIN, MARK, DIM, FIRST_EXTRA = 0, 1, 2, 3


def fit(text: str, kind: int, width: int, pad: int, out: list[Run]) -> None:
    """Append `text` cut or padded to `width` cells exactly as
    `Text.truncate(width, overflow="ellipsis", pad=True)` does: too long, the text is
    cut to width-1 cells (a split wide character becomes a space) plus "…", in the
    text's style; too short, padded with spaces in `pad`."""
    length = cell_len(text)
    if length > width:
        cut = set_cell_size(text, width - 1) + "…"
        out.append((cut[: len(text)], kind))
        if len(cut) > len(text):  # beyond the original text: no span covers it
            out.append((cut[len(text) :], pad))
        return
    if text:
        out.append((text, kind))
    if length < width:
        out.append((" " * (width - length), pad))


def fit_pieces(pieces: list[Run], width: int, pad: int, out: list[Run]) -> None:
    """`fit` for text made of pieces in different styles (a Text with several spans).

    Text.truncate cuts the plain text and trims the spans by character offset, so
    the n-th character of the cut text keeps the style of the n-th of the original."""
    plain = "".join(text for text, _ in pieces)
    length = cell_len(plain)
    if length > width:
        cut = set_cell_size(plain, width - 1) + "…"
        start = 0
        for text, kind in pieces:
            if start >= len(cut):
                break
            end = start + len(text)
            if end > start:
                out.append((cut[start:end], kind))
            start = end
        if start < len(cut):
            out.append((cut[start:], pad))
        return
    out.extend(piece for piece in pieces if piece[0])
    if length < width:
        out.append((" " * (width - length), pad))


@dataclass
class Paint:
    """What the lines of one paint share (see PagedTable.render_lines)."""

    width: int
    base: Style  # the widget's Rich style (background, colour)
    columns: list[Column]
    fits: bool  # the columns (and their gaps) add up to exactly `width` cells
    selected: Style
    cursor: Style
    spans: tuple[Style, ...]  # the style of each kind (PLAIN, MARK, DIM, the table's own)
    spanned: tuple[bool, ...]  # a Text would have a span for this kind (style not null)
    _row_styles: dict[tuple[bool, bool], Style] = field(default_factory=dict)
    _finals: dict[tuple[bool, bool], tuple[Style, ...]] = field(default_factory=dict)

    @classmethod
    def make(
        cls,
        width: int,
        base: Style,
        columns: list[Column],
        *,
        selected: Style,
        cursor: Style,
        spans: tuple[Style, ...],
    ) -> Paint:
        fits = all(col.width >= 1 for col in columns) and width == sum(
            col.width + col.gap for col in columns
        )
        return cls(
            width=width,
            base=base,
            columns=columns,
            fits=fits,
            selected=selected,
            cursor=cursor,
            spans=spans,
            spanned=tuple(bool(style) for style in spans),
        )

    def row_style(self, selected: bool, cursor: bool) -> Style:
        """The style of a whole row: the selection, then the cursor on top."""
        style = self._row_styles.get((selected, cursor))
        if style is None:
            style = Style()
            if selected:
                style += self.selected
            if cursor:
                style += self.cursor
            self._row_styles[selected, cursor] = style
        return style

    def final_styles(self, selected: bool, cursor: bool) -> tuple[Style, ...]:
        """The style on screen of each kind: base + row style + the span's style (the
        order in which Text.render and Strip.apply_style combine them)."""
        styles = self._finals.get((selected, cursor))
        if styles is None:
            row_style = self.row_style(selected, cursor)
            styles = tuple(self.base + (row_style + span) for span in self.spans)
            self._finals[selected, cursor] = styles
        return styles


def runs_strip(runs: list[Run], paint: Paint, selected: bool, cursor: bool) -> Strip:
    """The runs of a row as a line of `paint.width` cells (cut with an ellipsis or
    padded when the columns do not add up to the width)."""
    width = paint.width
    if not paint.fits:
        runs, pieces = [], runs
        fit_pieces(pieces, width, PLAIN, runs)
    spanned = paint.spanned
    if any(spanned[kind] for _, kind in runs):
        styles = paint.final_styles(selected, cursor)
    else:  # Text.render ignores the Text's own style when it has no spans
        styles = (paint.base,) * len(spanned)
    segments: list[Segment] = []
    text_so_far, last = "", -1
    for text, kind in runs:
        if kind != last and text_so_far:
            segments.append(Segment(text_so_far, styles[last]))
            text_so_far = ""
        text_so_far += text
        last = kind
    if text_so_far:
        segments.append(Segment(text_so_far, styles[last]))
    if paint.fits or cell_len("".join(text for text, _ in runs)) == width:
        return Strip(segments, width)
    return Strip(segments).adjust_cell_length(width, paint.base)


__all__ = ["DIM", "FIRST_EXTRA", "MARK", "PLAIN", "Paint", "Run", "fit", "fit_pieces", "runs_strip"]
