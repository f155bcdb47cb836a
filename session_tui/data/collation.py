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
Core insert defaults in column_defaults.py do it for plain inserts; bulk writers and edits
pass them). `session-tui check` recomputes them.
"""

from __future__ import annotations

import struct
import unicodedata
from array import array
from bisect import bisect_left
from functools import lru_cache
from typing import Any, Protocol

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
    only a process that writes a contact's name pays (never start-up). Its table is
    held in compact form (`_CompactTable`): pyuca's own, a tree of Python lists and
    ints, took ~10 MB of the app's memory for the rest of the session."""
    from pyuca import Collator  # pyuca has no type hints

    class CompactCollator(Collator):  # type: ignore[misc]
        # pyuca's __init__ sets `self.table = Trie()` and then calls `load`, which
        # adds every line of its table file with `self.table.add`: the empty Trie
        # is swapped for a `_CompactTable` first.
        def load(self, filename: str) -> None:
            self.table = _CompactTable()
            super().load(filename)
            self.table.finish()

    collator: _Collator = CompactCollator()
    return collator


class _CompactTable:
    """pyuca's collation element table (its `Trie`: `add` while loading, then
    `find_prefix`, with the same answers) in a few flat arrays: the single code
    points sorted with their elements packed in one buffer (~30,000 entries, a
    binary search each), and the few hundred contractions (keys of 2-3 code
    points) in a dict. pyuca's Trie kept a node, lists and int objects per entry."""

    def __init__(self) -> None:
        self.points = array("I")  # sorted (after `finish`)
        self.ends = array("I", [0])  # the elements of points[i]: packed[ends[i]:ends[i + 1]]
        self.packed = bytearray()  # collation elements as 16-bit weights, three each
        self.contractions: dict[tuple[int, ...], bytes] = {}
        self.starts: set[tuple[int, ...]] = set()  # proper prefixes of the contractions
        self.first_points: set[int] = set()  # their first code points
        self.memo: dict[int, list[list[int]] | None] = {}

    def add(self, key: list[int], elements: list[list[int]]) -> None:
        data = b"".join(_pack_element(e) for e in elements)
        if len(key) == 1:
            self.points.append(key[0])
            self.packed += data
            self.ends.append(len(self.packed))
            return
        self.contractions[tuple(key)] = data
        self.starts.update(tuple(key[:n]) for n in range(1, len(key)))
        self.first_points.add(key[0])

    def finish(self) -> None:
        """Sort the single code points (the file's last line for a code point wins,
        as in the Trie)."""
        points, ends, packed = self.points, self.ends, self.packed
        order = sorted(range(len(points)), key=points.__getitem__)
        self.points, self.ends, self.packed = array("I"), array("I", [0]), bytearray()
        for n, i in enumerate(order):
            if n + 1 < len(order) and points[order[n + 1]] == points[i]:
                continue  # a later line gives this code point again
            self.points.append(points[i])
            self.packed += packed[ends[i] : ends[i + 1]]
            self.ends.append(len(self.packed))

    def _single(self, point: int) -> bytes | None:
        i = bisect_left(self.points, point)
        if i < len(self.points) and self.points[i] == point:
            return bytes(self.packed[self.ends[i] : self.ends[i + 1]])
        return None

    def _elements(self, point: int) -> list[list[int]] | None:
        """The collation elements of one code point (None without an entry),
        unpacked once: a few hundred code points make up most names."""
        try:
            return self.memo[point]
        except KeyError:
            pass
        packed = self._single(point)
        found = None if packed is None else [list(e) for e in _ELEMENT.iter_unpack(packed)]
        if len(self.memo) >= _MEMO_POINTS:
            self.memo.clear()
        self.memo[point] = found
        return found

    def find_prefix(self, key: list[int]) -> tuple[list[int], Any, list[int]]:
        """The longest prefix of `key` with collation elements: (that prefix, its
        elements or None, the rest of `key`), walking as pyuca's Trie does: on while
        the prefix so far is a key or the start of one."""
        if key and key[0] not in self.first_points:  # no contraction starts here
            elements = self._elements(key[0])
            if elements:
                return key[:1], elements, key[1:]
            return key[:0], None, key[0:]
        found_at = 0
        found: bytes | None = None
        for n in range(1, len(key) + 1):
            if n == 1:
                value = self._single(key[0])
                known = value is not None or (key[0],) in self.starts
            else:
                prefix = tuple(key[:n])
                value = self.contractions.get(prefix)
                known = value is not None or prefix in self.starts
            if not known:
                break
            if value:
                found_at, found = n, value
        elements = None if found is None else [list(e) for e in _ELEMENT.iter_unpack(found)]
        return key[:found_at], elements, key[found_at:]


_ELEMENT = struct.Struct("<3H")
_MEMO_POINTS = 4096  # code points whose unpacked elements `_CompactTable` keeps


def _pack_element(weights: list[int]) -> bytes:
    return _ELEMENT.pack(*weights)


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
    At most `limit` pairs are kept.

    The key is given as a `bytearray` (equal to the bytes, never changed): the
    stdlib sqlite3 binds a bytearray as the same BLOB directly, while a `bytes`
    parameter goes through its adapter look-up first (~0.8 µs a row, ~10 % of a
    million-row `executemany`)."""

    def __init__(self, limit: int = 1 << 16) -> None:
        self.limit = limit
        self.known: dict[tuple[str, str], tuple[bytearray, str]] = {}

    def add(self, first_name: str, last_name: str) -> tuple[bytearray, str]:
        if len(self.known) >= self.limit:
            self.known.clear()
        found = (
            bytearray(name_key(first_name, last_name)),
            _search_prefix(first_name, last_name),
        )
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
