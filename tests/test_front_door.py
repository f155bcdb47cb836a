"""The front door: the README's quick-start launch, run as written, in a real terminal.

A newcomer types the README's first command on a machine with a clean home
directory. These tests do the same: they read the first ```sh block under
"## Quick start" in README.md, check that it is "make a venv, install this repo,
launch", and run the launch part verbatim (`sh -c`, from the repo root) inside a
real pseudo-terminal of a fixed size, in a fresh HOME / XDG_DATA_HOME /
XDG_CONFIG_HOME and without SESSION_TUI_DB / SESSION_TUI_DATA_DIR. They wait for
the first screen, press `q`, and check the exit code and the database file the
app created. The venv is reused (the repo's own `.venv`, which `.ci/run` and the
README's test command create): the point is the entry point and its arguments.

If the README and the code drift apart (another command, another option, a crash
on start), these tests fail.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shlex
import signal
import sqlite3
import stat
import struct
import subprocess
import termios
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SCRIPT = REPO / ".venv" / "bin" / "session-tui"
SIZES = [(80, 24), (120, 40)]
FIRST_SCREEN_TIMEOUT = 60.0  # seconds; generous: the machine may be busy
EXIT_TIMEOUT = 30.0
# What the Contacts screen shows once it has counted: the empty state, or the count line.
FIRST_SCREEN = re.compile(r"No contacts yet|\d[\d,]* of \d[\d,]* contacts")
ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def quick_start_command(readme: str) -> str:
    """The first command of the first ```sh block under "## Quick start"."""
    match = re.search(r"^## Quick start\s*$(.*?)(?=^## )", readme, re.M | re.S)
    assert match, "README.md has no '## Quick start' section"
    block = re.search(r"^```sh\s*\n(.*?)^```", match.group(1), re.M | re.S)
    assert block, "README.md's Quick start has no ```sh block"
    lines = block.group(1).replace("\\\n", " ").strip().splitlines()
    return lines[0].strip()


def launch_part(command: str) -> str:
    """Split the quick-start command on `&&`: the leading parts must be creating the
    venv and installing this repo into it; the last part is the launch, returned."""
    parts = [p.strip() for p in command.split("&&")]
    assert len(parts) == 3, f"expected venv && install && launch, got {command!r}"
    venv, install, launch = (shlex.split(p) for p in parts)
    assert venv == ["python3", "-m", "venv", ".venv"], parts[0]
    assert install[:2] == [".venv/bin/pip", "install"] and "-e" in install, parts[1]
    target = install[install.index("-e") + 1]
    assert target == "." or target.startswith(".["), f"installs {target!r}, not this repo"
    assert launch and launch[0] == ".venv/bin/session-tui", parts[2]
    return parts[2]


@dataclass
class Run:
    code: int
    screen: str  # everything the child wrote, escape sequences removed


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without anything session-tui reads, in a fresh home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SESSION_TUI_", "TEXTUAL", "XDG_", "PYTEST", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        TERM="xterm-256color",
        COLORTERM="truecolor",
        LANG="C.UTF-8",
    )
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.update(extra or {})
    return env


def _read(fd: int, timeout: float) -> bytes | None:
    """What the terminal has for us within `timeout` seconds: b"" if nothing, None at EOF."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return b""
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return None
    return data or None


def run_in_pty(argv: list[str], env: dict[str, str], size: tuple[int, int]) -> Run:
    """Start argv on a new pseudo-terminal of `size` (columns, rows), wait for the first
    screen, press `q`, wait for the exit. The child is killed if anything takes too long."""
    master, slave = os.openpty()
    cols, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    child = subprocess.Popen(
        argv,
        cwd=REPO,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    try:
        deadline = time.monotonic() + FIRST_SCREEN_TIMEOUT
        seen = False
        while not seen and time.monotonic() < deadline:
            data = _read(master, 0.2)
            if data is None:
                break
            out += data
            seen = bool(FIRST_SCREEN.search(_plain(out)))
        if not seen:
            raise AssertionError(
                f"no first screen within {FIRST_SCREEN_TIMEOUT:.0f}s "
                f"(exit code {child.poll()}); the terminal showed:\n{_plain(out)[-3000:]}"
            )
        time.sleep(0.5)  # let the app finish mounting before the key arrives
        os.write(master, b"q")
        deadline = time.monotonic() + EXIT_TIMEOUT
        while child.poll() is None and time.monotonic() < deadline:
            data = _read(master, 0.2)
            if data is None:
                break
            out += data
        code = child.wait(timeout=max(0.1, deadline - time.monotonic()))
        while (data := _read(master, 0.05)) is not None and data:  # drain what is left
            out += data
        return Run(code, _plain(out))
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the app did not quit on 'q' within {EXIT_TIMEOUT:.0f}s") from exc
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        os.close(master)


def _plain(raw: bytes | bytearray) -> str:
    return ANSI.sub(b"", bytes(raw)).decode("utf-8", "replace")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _has_schema(db_file: Path) -> bool:
    with sqlite3.connect(db_file) as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    return {"contact", "product", "membership"} <= names


@pytest.fixture
def script() -> Path:
    if not SCRIPT.exists():
        pytest.skip(
            f"front-door tests need the README's venv: {SCRIPT.relative_to(REPO)} is missing "
            "(create it with the README's quick-start command)"
        )
    return SCRIPT


def test_readme_quick_start_is_venv_install_launch() -> None:
    """Runs everywhere (no venv needed): the README's first command has the expected shape,
    and the launch part names the console script this package declares."""
    launch = launch_part(quick_start_command(README.read_text(encoding="utf-8")))
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^session-tui = "session_tui\.cli:main"$', pyproject, re.M)
    assert shlex.split(launch) == [".venv/bin/session-tui"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_readme_launch_opens_the_app_on_the_default_database(
    script: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    launch = launch_part(quick_start_command(README.read_text(encoding="utf-8")))
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home)
    assert "SESSION_TUI_DATA_DIR" not in env and "SESSION_TUI_DB" not in env

    run = run_in_pty(["sh", "-c", launch], env, size)

    assert run.code == 0, run.screen[-3000:]
    assert "Traceback" not in run.screen and "error" not in run.screen.lower()
    folder = home / ".local" / "share" / "session-tui"
    db_file = folder / "session-tui.db"
    assert db_file.is_file(), f"no database at {db_file}"
    assert _mode(db_file) == 0o600, oct(_mode(db_file))
    assert _mode(folder) == 0o700, oct(_mode(folder))
    assert _has_schema(db_file)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_console_script_honours_session_tui_db(
    script: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    team = tmp_path / "work" / "team.db"
    team.parent.mkdir()
    env = clean_env(home, {"SESSION_TUI_DB": str(team)})

    run = run_in_pty([str(script)], env, size)

    assert run.code == 0, run.screen[-3000:]
    assert "No contacts yet" in run.screen
    assert team.is_file() and _has_schema(team)
    assert not (home / ".local" / "share" / "session-tui" / "session-tui.db").exists()
