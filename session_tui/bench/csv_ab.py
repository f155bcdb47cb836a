"""Measure CSV import and export against SQLite itself (the import and export figures).

    .venv/bin/python -m session_tui.bench.csv_ab [--rows 1000000] [--dir /tmp/csv-bench]

Prints one line per figure: `name: value baseline=… ratio=… target=… PASS|FAIL`.
Generates its own data; not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import time
import unicodedata
from datetime import datetime
from pathlib import Path

FIRST = [
    "Ann",
    "Bob",
    "Chloé",
    "David",
    "Emma",
    "François",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Oskar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Yuki",
]
LAST = [
    "Smith",
    "Müller",
    "García",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "O'Brien",
    "Rossi",
    "Dubois",
    "Tanaka",
    "Haddad",
    "Larsen",
    "Silva",
    "Kim",
    "Novak",
    "Ivanova",
]
DOMAINS = ["gmail.com", "outlook.com", "example.org", "coaching.dev", "mail.co.uk"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "first_name", "last_name"])
        for i in range(rows):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            # Names keep their accents; addresses are ASCII, as nearly all real ones are.
            local = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
            w.writerow(
                [f"{local.lower()}.{i}.{rnd.randrange(10**6)}@{rnd.choice(DOMAINS)}", first, last]
            )


BASE_SCHEMA = (
    "CREATE TABLE contact (id INTEGER PRIMARY KEY, email VARCHAR(320) NOT NULL UNIQUE, "
    "first_name VARCHAR(200) NOT NULL DEFAULT '', last_name VARCHAR(200) NOT NULL DEFAULT '', "
    "created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, "
    "version INTEGER NOT NULL DEFAULT 1, active_until DATETIME)"
)
SAME_INDEXES = (
    "CREATE INDEX ix_contact_name ON contact (last_name, first_name, id)",
    "CREATE INDEX ix_contact_created ON contact (created_at, id)",
    "CREATE INDEX ix_contact_active_until ON contact (active_until, id)",
)


def baseline_import(csv_path: Path, db_path: Path, indexes: bool) -> float:
    for p in db_path.parent.glob(db_path.name + "*"):
        p.unlink()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute(BASE_SCHEMA)
    if indexes:
        for s in SAME_INDEXES:
            conn.execute(s)
    now = datetime.now().isoformat(sep=" ", timespec="microseconds")
    t = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        next(r)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT OR IGNORE INTO contact (email, first_name, last_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((row[0], row[1], row[2], now, now) for row in r),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def our_import(csv_path: Path, db_path: Path) -> tuple[float, object]:
    from session_tui.data.csvio import import_csv
    from session_tui.data.db import open_database

    for p in db_path.parent.glob(db_path.name + "*"):
        p.unlink()
    db = open_database(f"sqlite:///{db_path}")
    t = time.perf_counter()
    report = import_csv(db, csv_path)
    elapsed = time.perf_counter() - t
    db.dispose()
    return elapsed, report


def baseline_export(db_path: Path, out: Path) -> float:
    from session_tui.data.csvio.exporter import SUMMARY_COLUMNS

    conn = sqlite3.connect(db_path)
    t = time.perf_counter()
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(SUMMARY_COLUMNS)
        cur = conn.execute(BASELINE_EXPORT_SQL, (datetime.now().isoformat(sep=" "),))
        while rows := cur.fetchmany(5000):
            w.writerows(rows)
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


BASELINE_EXPORT_SQL = (
    "SELECT c.email, c.first_name, c.last_name, "
    "CASE WHEN c.active_until IS NULL THEN 'none' WHEN c.active_until > ? THEN 'active' "
    "ELSE 'expired' END, "
    "(SELECT group_concat(p.name, '; ') FROM membership m JOIN product p ON p.id = m.product_id "
    " WHERE m.contact_id = c.id), "
    "(SELECT group_concat(m.payment_type, '; ') FROM membership m WHERE m.contact_id = c.id), "
    "c.created_at FROM contact c ORDER BY c.id"
)


def our_export(db_path: Path, out: Path) -> float:
    from session_tui.data.csvio.exporter import export_csv
    from session_tui.data.db import open_database

    db = open_database(f"sqlite:///{db_path}")
    t = time.perf_counter()
    export_csv(db, out)
    elapsed = time.perf_counter() - t
    db.dispose()
    return elapsed


def line(name: str, value: float, base: float, target: float) -> str:
    ratio = value / base if base else float("inf")
    verdict = "PASS" if ratio <= target else "FAIL"
    return f"{name}: {value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} target<={target} {verdict}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dir", default="/tmp/csv-bench")
    ap.add_argument("--skip-export", action="store_true")
    args = ap.parse_args()
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    src = d / f"contacts-{args.rows}.csv"
    if not src.exists():
        generate(src, args.rows)
    print(f"file: {src} ({src.stat().st_size / 1e6:.1f} MB, {args.rows:,} rows)")
    base_plain = baseline_import(src, d / "base.db", indexes=False)
    base_idx = baseline_import(src, d / "base-idx.db", indexes=True)
    ours, report = our_import(src, d / "ours.db")
    print(f"  summary: {report.summary()}")  # type: ignore[attr-defined]
    print(line("import (vs unique-email table)", ours, base_plain, 2.0))
    print(line("import (vs table with the same indexes)", ours, base_idx, 2.0))
    if not args.skip_export:
        base_e = baseline_export(d / "ours.db", d / "base-export.csv")
        ours_e = our_export(d / "ours.db", d / "ours-export.csv")
        print(line("export", ours_e, base_e, 1.5))


if __name__ == "__main__":
    main()
