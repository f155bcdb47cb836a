"""Benchmark data: demo databases generated once and cached between runs.

A cached database is keyed by its size and seed (the file name) and remembers,
in a JSON file beside it, the schema revision and the demo generator's source
fingerprint it was made with; when either differs it is generated again.
Benchmarks that change data (delete, import) work on copies.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# A fixed clock makes the generated data identical from run to run.
DEMO_NOW = datetime(2026, 6, 1, 12, 0, 0)


@dataclass(frozen=True)
class Dataset:
    size: int
    seed: int
    path: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def schema_head() -> str:
    """The newest migration revision the code ships."""
    from alembic.script import ScriptDirectory

    from session_tui.data.db import Database, make_engine
    from session_tui.data.migrate import alembic_config

    engine = make_engine("sqlite://")
    try:
        cfg = alembic_config(Database("sqlite://", engine))
        head = ScriptDirectory.from_config(cfg).get_current_head()
    finally:
        engine.dispose()
    return str(head)


def generator_fingerprint() -> str:
    """A hash of the demo generator's source: other code makes other data."""
    from session_tui.data import demo

    source = Path(demo.__file__).read_bytes()
    return hashlib.sha256(source).hexdigest()[:16]


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _wanted_meta(size: int, seed: int) -> dict[str, object]:
    return {
        "size": size,
        "seed": seed,
        "schema": schema_head(),
        "generator": generator_fingerprint(),
        "now": DEMO_NOW.isoformat(),
    }


def write_cached(path: Path, write: Callable[[Path], object]) -> None:
    """`write(part)` to a `.part` file beside `path`, then rename it into place: a run
    killed while writing a cached input leaves no short file a later run would reuse."""
    part = path.with_name(path.name + ".part")
    try:
        write(part)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def remove_db_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = path.with_name(path.name + suffix)
        p.unlink(missing_ok=True)


def ensure_dataset(
    cache_dir: Path, size: int, seed: int, log: object = None
) -> tuple[Dataset, float | None]:
    """The cached demo database of `size` contacts; generated when missing or stale.

    Returns the dataset and the seconds spent generating it (None when cached).
    """
    from session_tui.data.db import open_database
    from session_tui.data.demo import generate_demo

    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"demo-{size}-seed{seed}.db"
    meta_file = _meta_path(path)
    wanted = _wanted_meta(size, seed)
    if path.exists() and meta_file.exists():
        try:
            if json.loads(meta_file.read_text()) == wanted:
                return Dataset(size, seed, path), None
        except (OSError, ValueError):
            pass
    meta_file.unlink(missing_ok=True)
    remove_db_files(path)
    if callable(log):
        log(f"generating {size:,} demo contacts (seed {seed}) into {path} ...")
    started = time.perf_counter()
    db = open_database(f"sqlite:///{path}")
    try:
        generate_demo(db, size, seed=seed, now=DEMO_NOW)
    finally:
        db.dispose()
    checkpoint(path)
    elapsed = time.perf_counter() - started
    meta_file.write_text(json.dumps(wanted, indent=1))
    return Dataset(size, seed, path), elapsed


def checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so that the file alone can be copied.

    No ANALYZE: the data must look like what `session-tui demo` leaves behind."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def copy_dataset(ds: Dataset, target: Path) -> Dataset:
    """A private copy of a cached database (for benchmarks that change data)."""
    remove_db_files(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ds.path, target)
    return Dataset(ds.size, ds.seed, target)
