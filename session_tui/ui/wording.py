"""Counts written as words: "1 contact", "1,204 contacts"."""

from __future__ import annotations


def plural(n: int, noun: str = "contact") -> str:
    """`n` with thousands separators and `noun`, with an "s" unless `n` is 1."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
