"""Import from the preview's stage (import_stage.py), on SQLite and PostgreSQL: the
same report, database and rejects file as a direct import, without reading the
CSV again; a file changed since the preview is refused; other parsing options
read the file; cancel writes nothing; the spool is private and always deleted."""

from __future__ import annotations

import gc
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from session_tui.data.clock import utcnow
from session_tui.data.csvio import CsvFormatError, ImportCancelled, ImportReport, import_csv, sniff
from session_tui.data.csvio import importer as importer_module
from session_tui.data.csvio.mapping import ColumnMapping
from session_tui.data.csvio.reader import CsvLayout
from session_tui.data.db import Database
from session_tui.data.tables import contact_t, event_t, membership_t, product_t
from tests.test_csv_import_memberships import write_csv

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
CHANGED = "the file changed since the preview: preview again"


def temp_dir_of_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A platform temp directory of the test's own: where the spools go."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return temp_dir_of_test(tmp_path, monkeypatch)


def spools(where: Path) -> list[Path]:
    return sorted(where.glob("session-tui-stage-*"))


def add_contact(db: Database, email: str, first: str = "Old") -> None:
    now = datetime(2020, 1, 1)  # before any import
    with db.engine.begin() as conn:
        conn.execute(
            contact_t.insert().values(
                email=email, first_name=first, last_name="", created_at=now, updated_at=now
            )
        )


def wipe(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in (event_t, membership_t, contact_t, product_t):
            conn.execute(delete(table))


def state(db: Database, since: datetime) -> dict[str, Any]:
    """The contacts, memberships, events and products, ids left out; a time the
    import gave (at or after `since`) reads "now"."""

    def t(value: Any) -> Any:
        return "now" if isinstance(value, datetime) and value >= since else value

    c, m, p, e = contact_t.c, membership_t.c, product_t.c, event_t.c
    with db.engine.connect() as conn:
        people = sorted(
            (r.email, r.first_name, r.last_name, t(r.created_at), r.name_key, r.search_text)
            for r in conn.execute(select(contact_t))
        )
        grants = sorted(
            (r[0], r[1], r[2], t(r[3]), r[4], r[5])
            for r in conn.execute(
                select(
                    c.email, p.name, m.payment_type, m.started_at, m.expires_at, m.cancelled_at
                ).select_from(membership_t.join(contact_t).join(product_t))
            )
        )
        history = sorted(
            (r[0], r[1], r[2], t(r[3]), r[4])
            for r in conn.execute(
                select(c.email, p.name, e.kind, e.at, e.actor).select_from(
                    event_t.join(membership_t).join(contact_t).join(product_t)
                )
            )
        )
        products = sorted(conn.execute(select(p.name, p.archived)).all())
    return {"contacts": people, "memberships": grants, "events": history, "products": products}


def no_csv_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, the importer cannot read a CSV file's rows."""

    class Refused:
        def __init__(self, *args: object) -> None:
            raise AssertionError("the import read the CSV file again")

    monkeypatch.setattr(importer_module, "RowSource", Refused)


def direct_and_staged(
    db: Database,
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: Callable[[Database], None] = lambda db: None,
    **options: Any,
) -> tuple[tuple[ImportReport, dict[str, Any]], tuple[ImportReport, dict[str, Any]]]:
    """(report, state) of a direct import, then of a preview + import from its stage
    (the database wiped and seeded the same way before each)."""
    layout = sniff(path)
    seed(db)
    since = utcnow()
    direct = import_csv(db, layout, **options)
    direct_state = state(db, since)
    wipe(db)
    seed(db)
    preview = import_csv(db, layout, dry_run=True, stage=True, **options)
    assert preview.staged is not None and preview.staged.alive
    since = utcnow()
    with monkeypatch.context() as patch:
        no_csv_reading(patch)
        staged = import_csv(db, layout, staged=preview.staged, **options)
    assert not preview.staged.alive  # imported: deleted
    return (direct, direct_state), (staged, state(db, since))


def test_the_import_from_the_stage_is_the_direct_import(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_tmp: Path
) -> None:
    rows = [[f"p{i}@example.com", f"First{i}", "Last"] for i in range(7)]
    rows[3] = ["p1@example.com", "Repeated", "Row"]  # a duplicate across batches
    rows.append(["exists@example.com", "Skipped", ""])
    rows.append(["not-an-email", "Bad", ""])
    rows.append(["", "", ""])  # blank: not a data row
    rows.append(["p9@example.com", "x" * 201, ""])
    path = write_csv(tmp_path / "c.csv", ["email", "first_name", "last_name"], rows)
    (direct, before), (staged, after) = direct_and_staged(
        db, path, monkeypatch, lambda db: add_contact(db, "exists@example.com"), batch_size=3
    )
    assert staged == direct  # every count and row verdict (the layout is the same)
    assert staged.summary() == {"added": 6, "skipped": 1, "duplicates": 1, "invalid": 2}
    assert after == before
    assert spools(private_tmp) == []


def test_memberships_from_the_stage(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def seed(db: Database) -> None:
        add_contact(db, "old@example.com")
        with db.engine.begin() as conn:
            for name, archived in (("Course", False), ("Gone", True)):
                conn.execute(
                    product_t.insert().values(
                        name=name, archived=archived, created_at=datetime(2020, 1, 1)
                    )
                )

    lossless = json.dumps(
        [
            {
                "product": "Course",
                "payment_type": "paid",
                "started": "2024-01-01T00:00:00Z",
                "expires": "2025-01-01T00:00:00Z",
            }
        ]
    )
    rows = [
        ["a@example.com", "Course; New Thing", "paid; free", ""],
        ["old@example.com", "Course", "comped", ""],
        ["b@example.com", "Gone", "paid", ""],
        ["a@example.com", "Other", "paid", ""],  # repeated: the first row wins
        ["c@example.com", "", "", lossless],
        ["d@example.com", "Course", "bogus", ""],  # invalid payment type
    ]
    path = write_csv(
        tmp_path / "m.csv", ["email", "products", "payment_types", "memberships"], rows
    )
    (direct, before), (staged, after) = direct_and_staged(
        db,
        path,
        monkeypatch,
        seed,
        batch_size=2,
        create_products=True,
        update_memberships=True,
    )
    assert staged == direct
    assert staged.memberships_granted >= 4 and staged.products_created == 1
    assert staged.products_archived == ("Gone",) and staged.invalid == 1
    assert after == before


def test_the_rejects_file_is_the_same(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"email,first_name,last_name\r\n"
        b"ok@example.com,Ok,Row\r\n"
        b"caf\x81@example.com,Not,UTF-8\r\n"  # a byte that is not UTF-8: invalid, as read
        b'no-at-sign,Bad,"Quoted, cell"\r\n'
        b"ragged@,a,b,c,d\r\n" + "zoë@example.com,Zoë,Ünïcode\r\n".encode()
    )
    layout = sniff(path)
    assert layout.errors == "surrogateescape"
    direct = import_csv(db, layout, rejects=tmp_path / "direct-rejects.csv")
    wipe(db)
    preview = import_csv(db, layout, dry_run=True, stage=True)
    with monkeypatch.context() as patch:
        no_csv_reading(patch)
        staged = import_csv(
            db, layout, staged=preview.staged, rejects=tmp_path / "staged-rejects.csv"
        )
    assert staged == direct and staged.invalid == 3
    written = (tmp_path / "staged-rejects.csv").read_bytes()
    assert written == (tmp_path / "direct-rejects.csv").read_bytes()
    assert b"caf\x81@example.com" in written  # byte for byte


def changed_same_size(path: Path) -> None:
    """Other bytes, same size and modification time: only the SHA-256 tells."""
    st = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace(b"p1@", b"q1@"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size


def appended(path: Path) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("late@example.com,Late,Row\n")


@pytest.mark.parametrize("change", [changed_same_size, appended])
def test_a_file_changed_since_the_preview_is_refused(
    db: Database, tmp_path: Path, change: Callable[[Path], None]
) -> None:
    path = write_csv(tmp_path / "c.csv", ["email"], [[f"p{i}@example.com"] for i in range(5)])
    layout = sniff(path)
    preview = import_csv(db, layout, dry_run=True, stage=True)
    change(path)
    with pytest.raises(CsvFormatError, match=CHANGED):
        import_csv(db, layout, staged=preview.staged, rejects=tmp_path / "r.csv")
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contact_t)).scalar_one() == 0
    assert not (tmp_path / "r.csv").exists()


def test_cancel_from_the_stage_writes_nothing_and_the_stage_stays(
    db: Database, tmp_path: Path, private_tmp: Path
) -> None:
    rows = [[f"p{i}@example.com", "New Product"] for i in range(10)]
    path = write_csv(tmp_path / "c.csv", ["email", "products"], rows)
    layout = sniff(path)
    preview = import_csv(db, layout, dry_run=True, stage=True, batch_size=3, create_products=True)
    answers = iter([False, False, True])  # cancelled after the second batch
    with pytest.raises(ImportCancelled):
        import_csv(
            db,
            layout,
            staged=preview.staged,
            batch_size=3,
            create_products=True,
            cancel=lambda: next(answers),
        )
    with db.engine.connect() as conn:
        for table in (contact_t, product_t, membership_t, event_t):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    assert preview.staged is not None and preview.staged.alive  # `y` again may use it
    seen: list[int] = []
    report = import_csv(
        db,
        layout,
        staged=preview.staged,
        batch_size=3,
        create_products=True,
        progress=lambda p: seen.append(p.total),
    )
    assert (report.added, report.memberships_granted) == (10, 10)
    assert set(seen) == {preview.staged.size}  # read from the stage, not the file
    assert spools(private_tmp) == []


def ghost_comp(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "comp.csv",
        ["email", "complimentary_plan"],
        [["a@example.com", "true"], ["b@example.com", "false"]],
    )


@pytest.mark.parametrize(
    ("how", "expected_product"),
    [
        ("comp_product", "Gift"),
        ("batch_size", "Complimentary"),
        ("mapping", None),
    ],
)
def test_other_parsing_options_read_the_file(
    sqlite_db: Database, tmp_path: Path, how: str, expected_product: str | None
) -> None:
    path = ghost_comp(tmp_path)
    layout = sniff(path)
    preview = import_csv(sqlite_db, layout, dry_run=True, stage=True, create_products=True)
    options: dict[str, Any] = {"create_products": True}
    target: CsvLayout = layout
    if how == "comp_product":
        options["comp_product"] = "Gift"
    elif how == "batch_size":
        options["batch_size"] = 1
    else:  # the user mapped the columns again: the plan column ignored
        target = sniff(path, mapping=ColumnMapping.empty(layout.header).with_field(0, "email"))
    seen: list[int] = []
    report = import_csv(
        sqlite_db, target, staged=preview.staged, progress=lambda p: seen.append(p.total), **options
    )
    assert set(seen) == {layout.size}  # the file was read
    assert report.added == 2
    with sqlite_db.engine.connect() as conn:
        names = set(conn.execute(select(product_t.c.name)).scalars())
    assert names == ({expected_product} if expected_product else set())
    assert preview.staged is not None and not preview.staged.alive


def test_a_membership_expired_since_the_preview_is_judged_again(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """A row valid at the preview only because its membership had not expired yet
    (no start given) is invalid at the import, as a direct import would say."""
    expires = utcnow() + timedelta(seconds=2)
    soon = json.dumps(
        [{"product": "Course", "payment_type": "paid", "expires": f"{expires:%Y-%m-%dT%H:%M:%SZ}"}]
    )
    path = write_csv(
        tmp_path / "e.csv",
        ["email", "memberships"],
        [["soon@example.com", soon], ["fine@example.com", "[]"]],
    )
    layout = sniff(path)
    preview = import_csv(sqlite_db, layout, dry_run=True, stage=True, create_products=True)
    assert preview.invalid == 0
    while utcnow() <= expires:
        time.sleep(0.2)
    report = import_csv(sqlite_db, layout, staged=preview.staged, create_products=True)
    assert (report.added, report.invalid) == (1, 1)
    assert "in the past" in next(r.reason for r in report.rows if r.reason)


def test_the_spool_is_private_and_deleted(
    sqlite_db: Database, tmp_path: Path, private_tmp: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", ["email"], [[f"p{i}@example.com"] for i in range(5)])
    layout = sniff(path)
    assert import_csv(sqlite_db, layout, dry_run=True).staged is None  # only when asked
    assert spools(private_tmp) == []
    preview = import_csv(sqlite_db, layout, dry_run=True, stage=True)
    [spool] = spools(private_tmp)
    assert stat.S_IMODE(spool.stat().st_mode) == 0o600
    assert preview.staged is not None and preview.staged.size == spool.stat().st_size
    preview.staged.discard()
    assert spools(private_tmp) == []
    # a dropped report takes its stage with it
    import_csv(sqlite_db, layout, dry_run=True, stage=True)
    gc.collect()
    assert spools(private_tmp) == []
    # a cancelled preview leaves none
    with pytest.raises(ImportCancelled):
        import_csv(sqlite_db, layout, dry_run=True, stage=True, cancel=lambda: True)
    assert spools(private_tmp) == []
    # a stage that is gone: the import reads the file
    preview = import_csv(sqlite_db, layout, dry_run=True, stage=True)
    assert preview.staged is not None
    os.unlink(preview.staged.path)
    assert import_csv(sqlite_db, layout, staged=preview.staged).added == 5


def test_the_spool_is_deleted_at_exit(tmp_path: Path, private_tmp: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["email"], [["a@example.com"]])
    code = (
        "import sys, tempfile\n"
        "from session_tui.data.csvio import import_csv, sniff\n"
        "from session_tui.data.db import open_database\n"
        f"tempfile.tempdir = {str(private_tmp)!r}\n"
        f"db = open_database({'sqlite:///' + str(tmp_path / 'x.db')!r})\n"
        f"report = import_csv(db, sniff({str(path)!r}), dry_run=True, stage=True)\n"
        "print(report.staged.path)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    spool = Path(out.stdout.strip())
    assert spool.parent == private_tmp
    assert not spool.exists()


def test_a_batch_reads_back_from_the_spool_as_it_was_parsed(tmp_path: Path) -> None:
    """The spool keeps each batch in a compact form (`_pack`): read back, it is the
    record the parser gave -- lines, values, reasons, first_index, unique -- with
    repeats inside a batch, invalid rows, and dates given or not."""
    import pickle

    from session_tui.data.csvio.import_stage import _pack, _unpack
    from session_tui.data.csvio.reader import RowSource
    from session_tui.data.csvio.row_parser import RowParser

    rows = [
        ["a@x.io", "Ann", "Lee", "2023-04-12 09:15:32"],
        ["b@x.io", "Bo", "", ""],
        ["a@x.io", "Again", "", "not a date"],
        ["bad", "Bad", "", ""],
        ["c@x.io", "", "Ng", "2021-01-01T00:00:00Z"],
        ["", "", "", ""],  # blank: not a data row
        ["b@x.io", "Bo", "", ""],
        ["d@x.io", "x" * 201, "", ""],  # invalid: the name is too long
        ["e@x.io", "Émile", "Zola", ""],
    ]
    path = write_csv(tmp_path / "c.csv", ["email", "first_name", "last_name", "created_at"], rows)
    layout = sniff(path)
    parser = RowParser(layout.columns, lenient=layout.errors != "strict")
    for batch_size in (1, 3, 4, 100):
        with RowSource(layout) as src:
            records = list(importer_module._CsvBatches(src, parser, batch_size))
        assert sum(len(r[0]) for r in records) == 8
        assert any(r[3] for r in records)  # some batch holds an invalid row
        for record in records:
            packed = pickle.loads(pickle.dumps(_pack(record), protocol=5))
            assert _unpack(packed) == record
    # A field holding the separator (no parsed field does): the batch is kept as is.
    odd = ([(2, ("a@x.io", "A\x00B", "", None), "")], {"a@x.io": 0}, [], 0, {}, [])
    odd[2].append(odd[0][0][1])
    assert _pack(odd)[0] != _pack(records[-1])[0]
    assert _unpack(pickle.loads(pickle.dumps(_pack(odd)))) == odd
