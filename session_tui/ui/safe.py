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


def escape_markup(value: object) -> str:
    """`value` made safe to embed inside a Textual markup string."""
    return escape(clean(value))
