"""The text form of a filter, printed (`text.py` reads it back):
`parse(to_text(f)) == normalize(f)`."""

from __future__ import annotations

from session_tui.data.filters.conditions import Condition, FieldName, GroupLike, Op

# `joined:` comparisons as written, e.g. `joined:>=2026-01-01`.
JOINED_OPS = (
    ("<=", Op.ON_OR_BEFORE),
    (">=", Op.ON_OR_AFTER),
    ("<", Op.BEFORE),
    (">", Op.AFTER),
    ("=", Op.ON),
)
_JOINED_PREFIX = {op: prefix for prefix, op in JOINED_OPS if prefix != "="}
_JOINED_PREFIX[Op.ON] = ""


def quote(value: str) -> str:
    """`value` as it must be written in the text form (quoted when needed)."""
    if value and not any(ch.isspace() or ch in '()"\\' for ch in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def condition_text(cond: Condition) -> str:
    fld, op, value = cond.field, cond.op, cond.value
    if fld is FieldName.JOINED:
        return f"joined:{_JOINED_PREFIX[op]}{value}"
    if fld is FieldName.EXPIRES:
        return f"expires:{value}d"
    negated = op in (Op.IS_NOT, Op.NOT_CONTAINS)
    body = f"{fld.value}:{quote(value)}"
    return f"not {body}" if negated else body


def to_text(group: GroupLike) -> str:
    """The text form of `group` (`""` for the empty filter)."""
    parts: list[str] = []
    for item in group.items:
        if isinstance(item, Condition):
            parts.append(condition_text(item))
        else:
            inner = to_text(item)
            if inner:
                parts.append(f"({inner})")
    return f" {group.mode.value} ".join(parts)
