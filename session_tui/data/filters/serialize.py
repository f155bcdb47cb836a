"""JSON for segments: the exact tree the panel built (not normalised), versioned.

{"version": 1, "mode": "and", "items": [
    {"field": "product", "op": "is", "value": "1:1 Coaching"},
    {"mode": "or", "items": [{"field": "status", "op": "is", "value": "active"}, ...]}]}
"""

from __future__ import annotations

import json
from typing import Any

from session_tui.data.filters.ast import Group
from session_tui.data.filters.conditions import Condition, FilterError

VERSION = 1


def to_dict(group: Group) -> dict[str, Any]:
    def item(it: Condition | Group) -> dict[str, Any]:
        if isinstance(it, Group):
            return {"mode": it.mode.value, "items": [item(x) for x in it.items]}
        return {"field": it.field.value, "op": it.op.value, "value": it.value}

    return {"version": VERSION, **item(group)}


def from_dict(data: Any) -> Group:
    """The filter in `data`; raises FilterError when it is not a valid filter."""

    def group(obj: Any, depth: int) -> Group:
        if not isinstance(obj, dict) or not isinstance(obj.get("items", []), list):
            raise FilterError("a filter group must be an object with a list of items")
        items: list[Condition | Group] = []
        for raw in obj.get("items", []):
            if isinstance(raw, dict) and "items" in raw:
                if depth >= 1:
                    raise FilterError("groups can be nested only one level deep")
                items.append(group(raw, depth + 1))
            elif isinstance(raw, dict):
                field, op, value = raw.get("field"), raw.get("op"), raw.get("value")
                if not all(isinstance(x, str) for x in (field, op, value)):
                    raise FilterError("a condition needs text 'field', 'op' and 'value'")
                items.append(Condition(field, op, value))  # type: ignore[arg-type]
            else:
                raise FilterError("a filter item must be an object")
        mode = obj.get("mode", "and")
        if mode not in ("and", "or"):
            raise FilterError(f"a group's mode is 'and' or 'or', not {mode!r}")
        return Group(mode, tuple(items))

    if not isinstance(data, dict):
        raise FilterError("a filter must be a JSON object")
    version = data.get("version", VERSION)
    if not isinstance(version, int) or version > VERSION:
        raise FilterError(f"this filter was saved by a newer version (format {version!r})")
    return group(data, 0)


def to_json(group: Group) -> str:
    return json.dumps(to_dict(group), ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> Group:
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise FilterError(f"the stored filter is not valid JSON ({exc})") from None
    return from_dict(data)
