"""The Core insert defaults of `contact.name_key` and `contact.search_text`: a plain
insert that does not give them gets them computed from its own names and email
(data/collation.py). Declared on `models.Contact` and, from there, on the generated
`tables.contact_t`.
"""

from __future__ import annotations

from sqlalchemy.engine.default import DefaultExecutionContext

from session_tui.data.collation import name_key, search_text


def _inserted(context: DefaultExecutionContext) -> tuple[str, str, str]:
    params: dict[str, str | None] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return (
        params.get("first_name") or "",
        params.get("last_name") or "",
        params.get("email") or "",
    )


def name_key_default(context: DefaultExecutionContext) -> bytes:
    first, last, _email = _inserted(context)
    return name_key(first, last)


def search_text_default(context: DefaultExecutionContext) -> str:
    return search_text(*_inserted(context))
