"""Substring search that ignores case and accents, over first name, last name,
"first last" and email.

Every contact stores `search_text`: "first last", a separator, the email, each folded
(data/collation.py: no accents, no case). A term is folded the same way (`search_key`)
and matches when it lies inside that text: `maria` finds "María", `María` finds
"maria". A term never holds the separator, so a match never spans name and email.

SQLite: the FTS5 trigram index `contact_fts` over `search_text` answers a term of 3+
characters by itself, exactly (a quoted phrase is a substring match), so `fts_count`
counts the matches without touching a contact row (at 1,000,000 contacts: 1-30 ms
instead of 80-180 ms), and `search_clause(..., walk_order_index=True)` lets the page
query walk the sort order's index and probe the matches, instead of fetching and
sorting every match (for a common term: a few ms instead of 100+ ms; the repository
picks it). Shorter terms: LIKE over `search_text`.
PostgreSQL: LIKE over `search_text`, served by its pg_trgm index.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    bindparam,
    func,
    literal_column,
    select,
    text,
    true,
)

from session_tui.data.collation import fold
from session_tui.data.tables import contact_t
from session_tui.data.validation import strip_controls

# Shortest term the trigram index can answer (one trigram).
FTS_MIN_LENGTH = 3


def normalize_term(term: str) -> str:
    """The term as the user means it: no control characters, lower case, single
    spaces (what the screens compare and show)."""
    return " ".join(strip_controls(term).lower().split())


def search_key(term: str) -> str:
    """The term as it is matched against `contact.search_text`: normalised and folded."""
    return " ".join(fold(strip_controls(term)).split())


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_match_param(match: str) -> TextClause:
    # unique: one query may hold several searches (search box + filter conditions)
    return text("contact_fts MATCH :fts_q").bindparams(bindparam("fts_q", match, unique=True))


def exact_fts_match(dialect: str, term: str) -> str | None:
    """The FTS5 MATCH expression when the index alone answers `term` exactly
    (SQLite, a folded term of 3+ characters: one phrase, a substring match), else None."""
    key = search_key(term)
    if dialect != "sqlite" or len(key) < FTS_MIN_LENGTH:
        return None
    return _fts_phrase(key)


def fts_count(dialect: str, term: str) -> Select[int] | None:
    """`SELECT count(*)` of the contacts matching `term`, read from the search index
    alone -- or None when the index cannot answer the term exactly by itself."""
    match = exact_fts_match(dialect, term)
    if match is None:
        return None
    return select(func.count()).select_from(text("contact_fts")).where(_fts_match_param(match))


def search_clause(
    dialect: str, term: str, *, walk_order_index: bool = False
) -> ColumnElement[bool]:
    """A WHERE clause on `contact` matching `term`; true() for an empty term.

    `walk_order_index`: for a term the FTS index answers, test the ids as
    `id + 0 IN (matches)`, which SQLite cannot answer from the primary key; the
    plan then walks the index of the ORDER BY and stops after LIMIT rows. Worth it
    only when the term matches many contacts (the repository decides).
    """
    key = search_key(term)
    if not key:
        return true()
    c = contact_t.c
    match = exact_fts_match(dialect, key)
    if match is None:
        # PostgreSQL (trigram index), or a term too short for SQLite's index.
        return c.search_text.like(_like_pattern(key), escape="\\")
    fts_ids = select(text("rowid")).select_from(text("contact_fts")).where(_fts_match_param(match))
    probe = c.id + literal_column("0") if walk_order_index else c.id
    return probe.in_(fts_ids.scalar_subquery())


def refines(old_term: str, new_term: str) -> bool:
    """True when every contact matching `new_term` also matches `old_term`.

    So it is when the old term, folded, lies inside the new one, folded (typing on
    at the end, in the middle, or pasting around it): a contact whose folded text
    holds the new term holds the old one too. Every path (index or LIKE, either
    database) matches the folded term inside the folded text, so this holds for
    short terms and accented ones alike.
    """
    old, new = search_key(old_term), search_key(new_term)
    return bool(old) and old != new and old in new


def row_match_clause(
    dialect: str, term: str, column: ColumnElement[str] | None = None
) -> ColumnElement[bool]:
    """`term` tested on each row by itself, without the search index: for checking a
    few known rows (see `ContactsRepository.refine`) or a bounded run of them (the
    head of an order, `column` being its `search_text`), never for scanning a table.
    The same test as `search_clause`: the folded term inside `search_text`."""
    key = search_key(term)
    if not key:
        return true()
    text_column = contact_t.c.search_text if column is None else column
    return text_column.like(_like_pattern(key), escape="\\")
