"""Show values from users and files literally.

Every string that came from the database, a file or a user goes through
`literal()` (a Rich Text, never parsed as markup) or `escape_markup()` (when it
has to be embedded in a markup string, e.g. a notification). Both also remove
control characters, so terminal escape sequences cannot reach the terminal.
"""

from __future__ import annotations

from rich.text import Text
from textual.markup import escape

from session_tui.data.validation import strip_controls


def clean(value: object) -> str:
    """The value as plain text without control characters."""
    return strip_controls("" if value is None else str(value))


def literal(value: object, style: str = "") -> Text:
    """A Text that shows `value` exactly as written (no markup, no escapes)."""
    return Text(clean(value), style=style, no_wrap=True, overflow="ellipsis")


def clean_paste(text: str) -> str:
    """Pasted text without control characters (lines and tabs kept as newline/space).

    A terminal delivers a paste as it was copied, escape sequences included; a
    text box would otherwise show them (and send them to the terminal) raw."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").split("\n")
    return "\n".join(strip_controls(line) for line in lines)


def escape_markup(value: object) -> str:
    """`value` made safe to embed inside a Textual markup string."""
    return escape(clean(value))
