"""Figures and how they are printed.

Every figure line has the form

    name: value baseline=value ratio=R target=T PASS|FAIL

where a value is a number with its unit (`12.3ms`, `4.56s`, `181.2MB`) and the
target is `ratio<=X`, optionally followed by `,value<=Y` (an absolute bound as
well). A figure whose code has not landed yet prints `name: SKIP (reason)` and
does not count; one that crashed prints `name: ERROR (reason) FAIL` and counts
as missed. The last line is `N of M targets met`.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None = None  # seconds for "s", megabytes for "MB"
    baseline: float | None = None
    unit: str = "s"
    max_ratio: float = 1.0
    max_value: float | None = None  # an absolute bound too (same unit as value)
    skip: str | None = None
    error: str | None = None

    @property
    def counted(self) -> bool:
        return self.skip is None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def passed(self) -> bool:
        if self.error is not None or self.skip is not None:
            return False
        ratio = self.ratio
        if ratio is None or round(ratio, 2) > self.max_ratio:
            return False
        if self.max_value is not None and (self.value or 0.0) > self.max_value:
            return False
        return True

    def target_text(self) -> str:
        text = f"ratio<={self.max_ratio:g}"
        if self.max_value is not None:
            text += f",value<={format_value(self.max_value, self.unit)}"
        return text

    def line(self) -> str:
        if self.skip is not None:
            return f"{self.name}: SKIP ({self.skip})"
        if self.error is not None:
            reason = " ".join(self.error.split())[:200]
            return f"{self.name}: ERROR ({reason}) FAIL"
        assert self.value is not None and self.baseline is not None
        ratio = self.ratio
        ratio_text = f"{ratio:.2f}" if ratio is not None else "inf"
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"{self.name}: {format_value(self.value, self.unit)} "
            f"baseline={format_value(self.baseline, self.unit)} "
            f"ratio={ratio_text} target={self.target_text()} {verdict}"
        )


def format_value(value: float, unit: str) -> str:
    if unit == "s":
        if value < 1.0:
            return f"{value * 1000:.1f}ms"
        return f"{value:.2f}s"
    if unit == "MB":
        return f"{value:.1f}MB"
    return f"{value:.3g}{unit}"


def summary_line(figures: Sequence[Figure]) -> str:
    counted = [f for f in figures if f.counted]
    met = sum(1 for f in counted if f.passed)
    return f"{met} of {len(counted)} targets met"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))  # ceil(0.95 n)
    return ordered[rank - 1]


# What a figure line looks like (tests/test_bench_smoke.py parses the output with these).
_VALUE = r"[0-9.]+(?:ms|s|MB)"
FIGURE_LINE = re.compile(
    rf"^(?P<name>[a-z0-9_]+): (?P<value>{_VALUE}) baseline=(?P<baseline>{_VALUE}) "
    rf"ratio=(?P<ratio>[0-9.]+|inf) target=(?P<target>ratio<=[0-9.]+(?:,value<={_VALUE})?) "
    r"(?P<verdict>PASS|FAIL)$"
)
SKIP_LINE = re.compile(r"^(?P<name>[a-z0-9_]+): SKIP \((?P<reason>.*)\)$")
ERROR_LINE = re.compile(r"^(?P<name>[a-z0-9_]+): ERROR \((?P<reason>.*)\) FAIL$")
SUMMARY_LINE = re.compile(r"^(?P<met>\d+) of (?P<total>\d+) targets met$")
