"""Filters: the model (ast), its text form (text), JSON for segments (serialize) and
its SQL (compile). No Textual here.

    from session_tui.data.filters import parse, to_text
    f = parse('product:"1:1 Coaching" and (status:active or payment:comped)')
    ContactsRepository(db).count(ContactQuery(filter=f))

The package offers every name of the model (groups: `ast.__all__`, their
conditions: `conditions.__all__`), plus the text and JSON forms' own.
"""

from session_tui.data.filters import ast, conditions
from session_tui.data.filters.ast import *  # noqa: F403 - the names listed there
from session_tui.data.filters.conditions import *  # noqa: F403 - the names listed there
from session_tui.data.filters.serialize import from_dict, from_json, to_dict, to_json
from session_tui.data.filters.text import FilterSyntaxError, parse, quote, to_text

__all__ = [
    "FilterSyntaxError",
    "from_dict",
    "from_json",
    "parse",
    "quote",
    "to_dict",
    "to_json",
    "to_text",
]
__all__ += ast.__all__
__all__ += conditions.__all__
