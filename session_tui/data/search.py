"""Case-insensitive substring search over first name, last name, "first last" and email.

SQLite: the FTS5 trigram index `contact_fts` narrows the candidates (words of 3+
characters); a LIKE on the same text verifies the exact substring when the term
spans words. PostgreSQL: LIKE on the expression covered by the pg_trgm index.

For a one-word term of 3+ characters on SQLite the index alone is exact, so
`fts_count` counts the matches in the index without touching a contact row
(at 1,000,000 contacts: 1-30 ms instead of 80-180 ms), and
`search_clause(..., walk_order_index=True)` lets the page query walk the sort
order's index and probe the matches, instead of fetching and sorting every
match (for a common term: a few ms instead of 100+ ms; the repository picks it).
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    TextClause,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)

from session_tui.data.models import contact_t as _contact_t
from session_tui.data.validation import strip_controls

# The contact table typed as a table (models.py hands it over untyped).
contact_t: Table = _contact_t

# A search that refines the one on screen (the old term, at least this long, lies
# inside the new one) may take its first rows from the old rows; see `refines`.
REFINE_MIN_LENGTH = 3

_SEP = "\x1f"


def normalize_term(term: str) -> str:
    return " ".join(strip_controls(term).lower().split())


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
    (SQLite, one word of 3+ characters: a trigram match in any column), else None."""
    term = normalize_term(term)
    if dialect != "sqlite" or not term or " " in term or len(term) < 3:
        return None
    return _fts_phrase(term)


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

    `walk_order_index`: for a term the FTS index answers by itself, test the ids
    as `id + 0 IN (matches)`, which SQLite cannot answer from the primary key; the
    plan then walks the index of the ORDER BY and stops after LIMIT rows. Worth it
    only when the term matches many contacts (the repository decides).
    """
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
    fts_ids = select(text("rowid")).select_from(text("contact_fts")).where(_fts_match_param(match))
    if len(words) == 1:
        # One word of 3+ characters: a trigram match in any column is exact.
        probe = c.id + literal_column("0") if walk_order_index else c.id
        return probe.in_(fts_ids.scalar_subquery())
    candidates = c.id.in_(fts_ids.scalar_subquery())
    # A term with spaces can only lie inside "first last" (emails have no spaces).
    return and_(candidates, exact_name_like)


def refines(old_term: str, new_term: str) -> bool:
    """True when every contact matching `new_term` also matches `old_term`.

    So it is when the old term lies inside the new one (typing on at the end, in
    the middle, or pasting around it): a contact whose name or email holds the
    new text holds the old text too. One caveat: on SQLite, terms shorter than
    `REFINE_MIN_LENGTH` are matched without the search index, with SQLite's
    ASCII-only case folding ("é" does not find "É"), longer ones with Unicode
    folding; so a short old term must be plain ASCII for the rule to hold.
    (For the few non-ASCII letters whose lower case is ASCII, such as the Kelvin
    sign, it still does not; the table re-reads the rows for real right after.)
    """
    old, new = normalize_term(old_term), normalize_term(new_term)
    if not old or old == new or old not in new:
        return False
    return len(old) >= REFINE_MIN_LENGTH or old.isascii()


def row_match_clause(dialect: str, term: str) -> ColumnElement[bool]:
    """`term` tested on each row by itself, without the search index: for checking a
    few known rows (see `ContactsRepository.refine`), never for scanning a table.

    The same text as `search_clause` is searched ("first last" and the email, folded
    to lower case); on SQLite the case folding is Python's (`st_lower`), which agrees
    with the search index's folding for the letters of every script names use.
    """
    term = normalize_term(term)
    if not term:
        return true()
    if dialect == "postgresql":
        return search_clause(dialect, term)
    c = contact_t.c
    pattern = _like_pattern(term)
    full_name = c.first_name + literal(" ") + c.last_name
    return or_(
        func.st_lower(full_name).like(pattern, escape="\\"),
        c.email.like(pattern, escape="\\"),
    )
