"""Filters: the model (ast), its text form (text), JSON for segments (serialize) and
its SQL (compile). No Textual here.

    from session_tui.data.filters import parse, to_text
    f = parse('product:"1:1 Coaching" and (status:active or payment:comped)')
    ContactsRepository(db).count(ContactQuery(filter=f))
"""

from session_tui.data.filters.ast import (
    EMPTY,
    FIELD_LABELS,
    FIELD_OPS,
    OP_LABELS,
    PAYMENT_VALUES,
    STATUS_VALUES,
    Condition,
    FieldName,
    FilterError,
    FilterValueError,
    Group,
    Mode,
    Op,
    normalize,
)
from session_tui.data.filters.serialize import from_dict, from_json, to_dict, to_json
from session_tui.data.filters.text import FilterSyntaxError, parse, quote, to_text

__all__ = [
    "EMPTY",
    "FIELD_LABELS",
    "FIELD_OPS",
    "OP_LABELS",
    "PAYMENT_VALUES",
    "STATUS_VALUES",
    "Condition",
    "FieldName",
    "FilterError",
    "FilterSyntaxError",
    "FilterValueError",
    "Group",
    "Mode",
    "Op",
    "from_dict",
    "from_json",
    "normalize",
    "parse",
    "quote",
    "to_dict",
    "to_json",
    "to_text",
]
