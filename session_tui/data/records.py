"""Records (dataclasses) from and to the plain shapes around them: a database row
whose columns bear the fields' names, a JSON object whose keys are attribute names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


@cache
def _field_names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def from_row(cls: type[R], row: Any, **computed: Any) -> R:
    """A `cls` whose fields are `row`'s columns of the same names, except those
    given in `computed` (values the row does not hold as they are)."""
    values = {name: getattr(row, name) for name in _field_names(cls) if name not in computed}
    return cls(**values, **computed)


def attributes(record: object, names: Iterable[str]) -> dict[str, Any]:
    """`{name: record.name}` for each of `names`, in that order: the keys of a JSON
    object that are the record's own attribute names."""
    return {name: getattr(record, name) for name in names}
