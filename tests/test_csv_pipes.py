"""Issue 13, item 7: importing from pipes. The CLI reads a non-seekable input once
(spooled to a private temporary file, deleted afterwards); `import -` reads
standard input; the data layer (and so the app) reads only regular files and
never blocks opening one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from session_tui.data.csvio import CsvFormatError, sniff
from session_tui.data.csvio.inputs import open_regular
from session_tui.data.db import open_database
from session_tui.data.tables import contact_t

ROWS = 3000
CSV = ("email,first_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(ROWS))).encode()


def count(url: str) -> int:
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            return len(conn.execute(select(contact_t.c.id)).all())
    finally:
        db.dispose()


def cli(tmp_path: Path, *args: str, stdin: bytes | None = None, shell: str | None = None) -> str:
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    if shell is not None:
        cmd: list[str] | str = ["bash", "-c", shell]
    else:
        cmd = [sys.executable, "-m", "session_tui", *args]
    done = subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert list((tmp_path / "tmp").iterdir()) == []  # the spool was deleted
    return done.stdout.decode()


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_import_from_standard_input_reads_every_row(db_url: str, tmp_path: Path, name: str) -> None:
    out = cli(tmp_path, "import", name, "--db", db_url, stdin=CSV)
    assert f"added {ROWS:,}" in out
    assert count(db_url) == ROWS


def test_import_from_process_substitution(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_bytes(CSV)
    python = sys.executable
    out = cli(
        tmp_path,
        shell=f'"{python}" -m session_tui import <(cat "{source}") --db "{db_url}"',
    )
    assert f"added {ROWS:,}" in out
    assert count(db_url) == ROWS


def test_import_from_a_named_pipe_with_a_writer(db_url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(CSV))
    writer.start()
    try:
        out = cli(tmp_path, "import", str(fifo), "--db", db_url)
    finally:
        writer.join()
    assert f"added {ROWS:,}" in out
    assert count(db_url) == ROWS


def test_the_reader_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    """No writer ever opens this FIFO: a blocking open would never return."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    errors: list[str] = []

    def attempt() -> None:
        for call in (open_regular, sniff):
            try:
                call(fifo)
            except CsvFormatError as exc:
                errors.append(str(exc))

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(60)  # a liveness guard for the suite, not a timing assertion
    assert not thread.is_alive(), "opening a FIFO blocked"
    assert len(errors) == 2
    assert all("is a FIFO (named pipe), not a regular file" in e for e in errors)


def test_the_reader_refuses_a_character_device() -> None:
    with pytest.raises(CsvFormatError, match="character device"):
        sniff("/dev/null")
