"""Text that search and sort compare: accents and case folded away for search, and
Unicode Collation Algorithm sort keys for the alphabetical order of names.

Every contact stores two columns derived from its names and email (models.Contact):

- `search_text` = `search_text(first, last, email)`: "first last", a U+001F separator,
  the email -- each `fold`ed. Search matches a folded term inside it (data/search.py),
  so `maria` finds "María", `muller` finds "Müller" and `María` finds "maria", on SQLite
  (whose FTS5 trigram tokenizer cannot drop accents itself) and PostgreSQL alike.
- `name_key` = `name_key(first, last)`: bytes whose plain byte order (SQLite BLOB and
  PostgreSQL bytea both compare with memcmp) is the UCA order of (last name, first
  name), from pyuca's Default Unicode Collation Element Table: "Léa" between "Lea"
  and "Leb", "Ødegaard" and "Ørsted" among the O's, not after Z.

Whoever writes a contact's names or email writes both columns with them (the
Core insert defaults in models.py do it for plain inserts; bulk writers and edits
pass them). `session-tui check` recomputes them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Protocol

# Separates the name from the email in `search_text`: a search term never holds it
# (control characters are stripped from terms), so no match spans the two.
SEARCH_SEPARATOR = "\x1f"

# Combining marks that accents decompose into (NFKD): the Combining Diacritical Marks
# blocks. Marks of other scripts (Indic vowel signs, kana voicing marks, Hebrew and
# Arabic vowel points) are kept: dropping them would merge different words.
_MARK_RANGES = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)
# Letters that carry an accent-like stroke or are ligatures, but have no
# decomposition (so NFKD leaves them), as people type them without it. Keys are
# lower case: the table is applied after case folding.
_LETTERS = {
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ŧ": "t",
    "ı": "i",
    "ȷ": "j",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    # Typographic apostrophes and hyphens, as in "O’Brien" typed "o'brien".
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "\u2010": "-",
    "\u2011": "-",
}
_TABLE: dict[int, str | None] = {
    cp: None for start, end in _MARK_RANGES for cp in range(start, end + 1)
}
_TABLE.update({ord(k): v for k, v in _LETTERS.items()})


def fold(text: str) -> str:
    """`text` without accents or case: NFKD, case folding, the combining accent
    marks dropped, and the letters that do not decompose spelled plainly
    (ø→o, ł→l, đ→d, ß→ss, æ→ae, œ→oe, þ→th, ı→i …). Idempotent."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    # Case folding can produce characters that decompose again (e.g. ǰ).
    return unicodedata.normalize("NFKD", decomposed.casefold()).translate(_TABLE)


# Names repeat (a thousand contacts share few first names): fold each once. Folding
# goes character by character, so fold(a + " " + b) == fold(a) + " " + fold(b).
_fold_name = lru_cache(maxsize=1 << 16)(fold)


def search_text(first_name: str, last_name: str, email: str) -> str:
    """The stored text a search looks in: folded "first last", separator, folded email."""
    return _search_prefix(first_name, last_name) + fold(email)


def _search_prefix(first_name: str, last_name: str) -> str:
    return f"{_fold_name(first_name)} {_fold_name(last_name)}{SEARCH_SEPARATOR}"


# -- sort keys ------------------------------------------------------------------


class _Collator(Protocol):
    def sort_key(self, string: str) -> tuple[int, ...]: ...


@lru_cache(maxsize=1)
def _collator() -> _Collator:
    """pyuca's collator, loaded on first use: reading its table takes ~0.4 s, which
    only a process that writes a contact's name pays (never start-up)."""
    from pyuca import Collator  # pyuca has no type hints

    collator: _Collator = Collator()
    return collator


def _weight(value: int) -> bytes:
    """A secondary or tertiary weight (DUCET: at most 0x114) in an order-preserving
    prefix code: one byte below 0xF0, else two."""
    if value < 0xF0:
        return bytes((value,))
    value -= 0xF0
    if value >= 0x1000:
        raise ValueError(f"collation weight out of range: {value + 0xF0:#x}")
    return bytes((0xF0 + (value >> 8), value & 0xFF))


@lru_cache(maxsize=1 << 16)
def _part_key(text: str) -> bytes:
    """The UCA sort key of one name, as bytes ordered like the key itself.

    pyuca's key is (primary weights, 0, secondary weights, 0, tertiary weights, 0),
    no weight being 0. Primary weights (up to 0xFFFD) take two bytes, the others
    `_weight`'s code; each level ends with zero bytes, lower than any weight. As no
    key is a proper prefix of another (each ends with its three level ends), the
    concatenation of two keys orders like the pair."""
    key = _collator().sort_key(text)
    out = bytearray()
    level = 0
    for w in key:
        if w == 0:
            out += b"\x00\x00" if level == 0 else b"\x00"
            level += 1
        elif level == 0:
            out += w.to_bytes(2, "big")
        else:
            out += _weight(w)
    return bytes(out)


def name_key(first_name: str, last_name: str) -> bytes:
    """The bytes the alphabetical order sorts by: last name, then first name, each
    by the Unicode Collation Algorithm (all three levels: letters, then accents,
    then case). Cached per name: a thousand contacts share few distinct names."""
    return _part_key(last_name) + _part_key(first_name)


class NamePairs:
    """The derived columns of many contacts (a bulk load), by (first, last) pair: a
    file of a million contacts holds a few thousand distinct pairs. For a pair,
    `known.get((first, last)) or add(first, last)` is `(name_key(first, last),
    prefix)` where `prefix + fold(email)` == `search_text(first, last, email)`.
    At most `limit` pairs are kept."""

    def __init__(self, limit: int = 1 << 16) -> None:
        self.limit = limit
        self.known: dict[tuple[str, str], tuple[bytes, str]] = {}

    def add(self, first_name: str, last_name: str) -> tuple[bytes, str]:
        if len(self.known) >= self.limit:
            self.known.clear()
        found = (name_key(first_name, last_name), _search_prefix(first_name, last_name))
        self.known[(first_name, last_name)] = found
        return found


def derived_columns(first_name: str, last_name: str, email: str) -> dict[str, object]:
    """The two derived columns of a contact, by column name (for row dicts)."""
    return {
        "name_key": name_key(first_name, last_name),
        "search_text": search_text(first_name, last_name, email),
    }


# Not copied into a deletion backup: recomputed when the contact is put back.
DERIVED_COLUMNS = ("name_key", "search_text")
