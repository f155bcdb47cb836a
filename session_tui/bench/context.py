"""What every figure needs: sizes, the work directory, the cached datasets, a log."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from session_tui.bench.datasets import Dataset, ensure_dataset


class NotBuilt(Exception):
    """The project code a figure measures has not landed yet (the figure is skipped)."""


def require(module: str) -> None:
    """NotBuilt unless `module`, the project code a figure measures, imports."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise NotBuilt from exc


@dataclass
class Context:
    workdir: Path
    small: int  # the baseline size of the UI figures (1,000)
    large: int  # the size measured (1,000,000; --quick: 100,000)
    seed: int = 1
    repeats: int = 5  # repetitions of the cheap UI figures (median taken)
    verbose: bool = True
    smoke: bool = False  # --sizes: a smoke run, fewer repetitions (keeps the script working)
    rounds: int = 1  # 2 in a full run: UI figures measured small, large, large, small
    _datasets: dict[int, Dataset] = field(default_factory=dict)
    generated: dict[int, float] = field(default_factory=dict)

    @property
    def cache_dir(self) -> Path:
        return self.workdir / "cache"

    @property
    def scratch_dir(self) -> Path:
        path = self.workdir / "scratch"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def delete_count(self) -> int:
        """How many contacts the delete figure deletes: 100,000 of 1,000,000."""
        return max(1, self.large // 10)

    def log(self, text: str) -> None:
        if self.verbose:
            print(f"# {text}", file=sys.stderr, flush=True)

    def dataset(self, size: int) -> Dataset:
        if size not in self._datasets:
            ds, seconds = ensure_dataset(self.cache_dir, size, self.seed, log=self.log)
            if seconds is not None:
                self.generated[size] = seconds
                self.log(f"generated {size:,} contacts in {seconds:.1f}s")
            self._datasets[size] = ds
        return self._datasets[size]

    def timed(self, label: str, fn: Callable[[], object]) -> float:
        """Run `fn` once and return the seconds it took (logged)."""
        started = time.perf_counter()
        fn()
        seconds = time.perf_counter() - started
        self.log(f"{label}: {seconds:.3f}s")
        return seconds
