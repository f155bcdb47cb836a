"""data/collation.py by itself: what folding keeps and drops, and that the byte order
of `name_key` is the Unicode Collation Algorithm's order of (last name, first name)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyuca import Collator

from session_tui.data.collation import SEARCH_SEPARATOR, fold, name_key, search_text

COLLATOR = Collator()


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("María", "maria"),
        ("JOSÉ", "jose"),
        ("Müller", "muller"),
        ("Özil", "ozil"),
        ("Ørsted", "orsted"),
        ("Łukasz Wałęsa", "lukasz walesa"),
        ("Đorđe", "dorde"),
        ("Straße", "strasse"),
        ("ẞ", "ss"),
        ("Æsa Œuvre", "aesa oeuvre"),
        ("Þóra", "thora"),
        ("Iıİ", "iii"),
        ("O’Brien", "o'brien"),
        ("ﬁnn", "finn"),  # compatibility ligature
        ("Ｍａｒｉａ", "maria"),  # full-width letters
        ("李王", "李王"),  # scripts without case or accents are kept
        ("ガ", "ガ"),  # kana voicing marks are not accents: kept
        ("plain ascii 123", "plain ascii 123"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == unicodedata.normalize("NFKD", folded)


@settings(max_examples=300)
@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    """A folded term matches folded text: folding either again changes nothing."""
    once = fold(text)
    assert fold(once) == once


@settings(max_examples=300)
@given(st.text(), st.text())
def test_folding_two_names_apart_is_folding_them_together(first: str, last: str) -> None:
    assert search_text(first, last, "").removesuffix(SEARCH_SEPARATOR) == fold(f"{first} {last}")


def test_search_text_is_folded_name_then_email() -> None:
    assert search_text("María", "López", "ml@exämple.com") == (
        f"maria lopez{SEARCH_SEPARATOR}ml@example.com"
    )


def test_sort_examples() -> None:
    names = ["Leb", "Léa", "Linh", "Lea", "Zoe", "Ørsted", "Oliver", "Ødegaard", "Adams"]
    ordered = sorted(names, key=lambda last: name_key("", last))
    assert ordered == ["Adams", "Lea", "Léa", "Leb", "Linh", "Ødegaard", "Oliver", "Ørsted", "Zoe"]


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(["", "Lea", "Léa", "lea", "LEA", "Ødegaard", "O", "Ø", "ß", "ss", "李"])


@settings(max_examples=400, deadline=None)  # the first call loads the table
@given(a=st.tuples(names, names), b=st.tuples(names, names))
def test_byte_order_is_the_collation_order(a: tuple[str, str], b: tuple[str, str]) -> None:
    """(first, last) pairs: the bytes compare like pyuca's keys of (last, first)."""

    def uca(pair: tuple[str, str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return COLLATOR.sort_key(pair[1]), COLLATOR.sort_key(pair[0])

    ka, kb = name_key(*a), name_key(*b)
    assert (ka < kb) == (uca(a) < uca(b))
    assert (ka == kb) == (uca(a) == uca(b))


def _uca_keys() -> list[str]:
    """Every contraction of pyuca's table (keys of 2-3 code points), as text."""
    from pathlib import Path

    import pyuca

    table = Path(pyuca.__file__).parent / f"allkeys-{COLLATOR.UCA_VERSION}.txt"
    keys = []
    for line in table.read_text(encoding="utf-8").splitlines():
        points = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(points) > 1 and not line.startswith("@"):
            keys.append("".join(chr(int(p, 16)) for p in points))
    return keys


def test_the_compact_table_gives_pyucas_keys() -> None:
    """collation.py keeps pyuca's table in compact form (`_CompactTable`); the sort
    keys are pyuca's own: for a code point in every 7 (all planes with entries), for
    each contraction alone, followed, preceded and split by combining marks."""
    from session_tui.data.collation import _collator

    compact = _collator()
    texts = [chr(cp) for cp in range(0, 0x30000, 7) if not 0xD800 <= cp <= 0xDFFF]
    contractions = _uca_keys()
    assert len(contractions) > 800
    for key in contractions:
        texts += [key, key + "a", "x" + key, key[:-1] + "\u0301" + key[-1], key + "\u0308\u0301"]
    texts += ["", "Ødegaard", "Łukasz", "Nguyễn", "李", "l\u00b7l", "L\u0387a", "\U00020000"]
    differ = [t for t in texts if compact.sort_key(t) != COLLATOR.sort_key(t)]
    assert differ == []
