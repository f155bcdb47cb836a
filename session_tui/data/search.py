"""Case-insensitive substring search over first name, last name, "first last" and email.

SQLite: the FTS5 trigram index `contact_fts` narrows the candidates (words of 3+
characters); a LIKE on the same text verifies the exact substring when the term
spans words. PostgreSQL: LIKE on the expression covered by the pg_trgm index.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, or_, select, text, true

from session_tui.data.models import contact_t
from session_tui.data.validation import strip_controls

_SEP = "\x1f"


def normalize_term(term: str) -> str:
    return " ".join(strip_controls(term).lower().split())


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def search_clause(dialect: str, term: str) -> ColumnElement[bool]:
    """A WHERE clause on `contact` matching `term`; true() for an empty term."""
    term = normalize_term(term)
    if not term:
        return true()
    c = contact_t.c
    pattern = _like_pattern(term)
    if dialect == "postgresql":
        doc = func.lower(c.first_name + literal(" ") + c.last_name + literal(_SEP) + c.email)
        return doc.like(pattern, escape="\\")
    full_name = c.first_name + literal(" ") + c.last_name
    # SQLite's LIKE folds ASCII case only; st_lower (registered in db.py) folds all
    # of Unicode and is only applied to the FTS-narrowed candidates.
    name_like = full_name.like(pattern, escape="\\")
    exact_name_like = func.st_lower(full_name).like(pattern, escape="\\")
    email_like = c.email.like(pattern, escape="\\")
    words = term.split(" ")
    long_words = [w for w in words if len(w) >= 3]
    if not long_words:
        return or_(name_like, email_like)
    match = " AND ".join(_fts_phrase(w) for w in long_words)
    fts_ids = (
        select(text("rowid"))
        .select_from(text("contact_fts"))
        # unique: one query may hold several searches (search box + filter conditions)
        .where(text("contact_fts MATCH :fts_q").bindparams(bindparam("fts_q", match, unique=True)))
    )
    candidates = c.id.in_(fts_ids.scalar_subquery())
    if len(words) == 1:
        # One word of 3+ characters: a trigram match in any column is exact.
        return candidates
    # A term with spaces can only lie inside "first last" (emails have no spaces).
    return and_(candidates, exact_name_like)
