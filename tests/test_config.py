"""config.toml: where it is, what it may say, how errors read, precedence of the
database, saving the theme, `session-tui config path|show|edit`, the schema
version of --version, and the real app started in a pty with a settings file."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from session_tui import SCHEMA_VERSION, config, locations
from session_tui.cli import main
from session_tui.config import ConfigError, Settings, load, parse, save_theme
from session_tui.data.db import resolve_url
from session_tui.ui.keymap import load_settings

FULL = """\
# every setting
theme = "nord"
database = "members.db"
confirm_large_delete_above = 50
date_format = "%d.%m.%Y"

[keymap]
"app.quit" = "ctrl+x"
contacts.delete = ["d", "ctrl+d"]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- where --------------------------------------------------------------------------------
def test_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SESSION_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert locations.config_path() == tmp_path / "xdg" / "session-tui" / "config.toml"
    monkeypatch.setenv("SESSION_TUI_CONFIG", str(tmp_path / "env.toml"))
    assert locations.config_path() == tmp_path / "env.toml"
    assert locations.config_path(str(tmp_path / "arg.toml")) == tmp_path / "arg.toml"
    assert not (tmp_path / "xdg").exists()  # finding the path creates nothing


def test_database_precedence_flag_env_config_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SESSION_TUI_DB", raising=False)
    configured = str(tmp_path / "conf.db")
    assert resolve_url(None, None).endswith("/data/session-tui.db")
    assert resolve_url(None, configured) == f"sqlite:///{configured}"
    monkeypatch.setenv("SESSION_TUI_DB", str(tmp_path / "env.db"))
    assert resolve_url(None, configured) == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_url(str(tmp_path / "flag.db"), configured) == f"sqlite:///{tmp_path / 'flag.db'}"


def test_cli_uses_the_configured_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "cfg" / "config.toml", 'database = "team.db"\n')
    monkeypatch.setenv("SESSION_TUI_CONFIG", str(cfg))
    assert main(["products", "add", "Course"]) == 0
    assert (tmp_path / "cfg" / "team.db").is_file()  # relative to the config file
    assert not (tmp_path / "data" / "session-tui.db").exists()
    # --db still wins
    assert main(["products", "add", "Course", "--db", str(tmp_path / "other.db")]) == 0
    assert (tmp_path / "other.db").is_file()


def test_cli_refuses_a_bad_config_when_it_would_choose_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write(tmp_path / "config.toml", 'database = "team.db"\nthemes = "x"\n')
    monkeypatch.setenv("SESSION_TUI_CONFIG", str(cfg))
    assert main(["products", "list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{cfg} line 2: unknown setting 'themes'" in err
    assert not (tmp_path / "data" / "session-tui.db").exists()  # not the default instead
    # with --db the settings file is not needed
    assert main(["products", "list", "--db", str(tmp_path / "x.db")]) == 0


# -- what ---------------------------------------------------------------------------------
def test_a_complete_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", FULL)
    settings, problem = load_settings(path)
    assert problem is None
    assert settings.theme == "nord"
    assert settings.database == str(tmp_path / "members.db")
    assert settings.confirm_large_delete_above == 50
    assert settings.date_format == "%d.%m.%Y"
    assert dict(settings.keymap) == {"app.quit": "ctrl+x", "contacts.delete": "d,ctrl+d"}


def test_the_documented_example_and_the_template_are_valid(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
    example = re.search(r"```toml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert example, "docs/settings.md has a ```toml example"
    for text in (example.group(1), config.TEMPLATE):
        path = write(tmp_path / "config.toml", text)
        settings, problem = load_settings(path)
        assert problem is None, problem
    assert settings == Settings(path=path, lines=settings.lines)  # the template: all comments


def test_missing_file_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert load(path) == Settings(path=path)


ERRORS = [
    ('theme = "nord"\n[keymap\n', 2, "not valid TOML"),
    ('theme = "nord"\ncolour = "red"\n', 2, "unknown setting 'colour'"),
    ("[colours]\nx = 1\n", 1, "unknown setting 'colours'"),
    ("theme = 7\n", 1, "theme must be"),
    ('database = ""\n', 1, "database must be"),
    ("confirm_large_delete_above = -1\n", 1, "whole number"),
    ("confirm_large_delete_above = true\n", 1, "whole number"),
    ('date_format = "YYYY"\n', 1, "no % directive"),
    ("\n\n[keymap]\n'app.quit' = 3\n", 4, "keys for 'app.quit'"),
    ('[keymap]\n"app.quit" = "ctrl x"\n', 2, "no spaces"),
    ('[keymap]\n"app.quit" = ""\n', 2, "keys for"),
    ('keymap = "q"\n', 1, "keymap must be a table"),
]


@pytest.mark.parametrize(("text", "line", "reason"), ERRORS)
def test_file_errors_are_one_line_naming_the_line(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError) as exc:
        load(path)
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(f"{path} line {line}: ") and reason in message, message


UI_ERRORS = [
    ('theme = "nordd"\n', 1, "unknown theme 'nordd'; did you mean 'nord'?"),
    ('[keymap]\n"app.qiut" = "x"\n', 2, "unknown binding id 'app.qiut'; did you mean 'app.quit'?"),
    # x is Export on the Contacts screen
    ('[keymap]\n"app.help" = "f1"\n"app.quit" = "x"\n', 3, "'x' would do two things on"),
    # two remapped bindings on one key of one screen
    ('[keymap]\n"contacts.edit" = "ctrl+e"\n"contacts.import" = "ctrl+e"\n', 2, "two things"),
]


@pytest.mark.parametrize(("text", "line", "reason"), UI_ERRORS)
def test_ui_errors_name_the_line_and_give_the_defaults(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = write(tmp_path / "config.toml", text)
    settings, problem = load_settings(path)
    assert problem is not None
    assert str(problem).startswith(f"{path} line {line}: ") and reason in str(problem)
    assert settings == Settings(path=path)


def test_keys_that_already_share_a_key_by_design_are_not_a_clash(tmp_path: Path) -> None:
    # escape leaves the search box and clears the selection: as shipped, not an error
    path = write(tmp_path / "config.toml", '[keymap]\n"table.clear_selection" = "escape"\n')
    assert load_settings(path)[1] is None


def test_sibling_widgets_may_share_a_key(tmp_path: Path) -> None:
    # the table and the filter panel never have focus together
    path = write(tmp_path / "config.toml", '[keymap]\n"table.invert" = "ctrl+g"\n')
    settings, problem = load_settings(path)
    assert problem is None and settings.keymap == {"table.invert": "ctrl+g"}


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="cannot read it"):
        load(folder)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b'theme = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(binary)


# -- saving the theme ---------------------------------------------------------------------
def test_save_theme_keeps_everything_else(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", FULL)
    os.chmod(path, 0o640)
    save_theme(path, "dracula")
    assert path.read_text(encoding="utf-8") == FULL.replace('"nord"', '"dracula"')
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp files left


def test_save_theme_adds_the_line_before_the_tables(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '# mine\n\n[keymap]\n"app.quit" = "ctrl+x"\n')
    save_theme(path, "gruvbox")
    assert path.read_text(encoding="utf-8") == (
        '# mine\ntheme = "gruvbox"\n\n[keymap]\n"app.quit" = "ctrl+x"\n'
    )
    assert parse(path.read_text(encoding="utf-8"), path).keymap == {"app.quit": "ctrl+x"}


def test_save_theme_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_theme(path, "nord")
    assert load(path).theme == "nord"
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_save_theme_leaves_a_broken_file_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "theme = \n")
    with pytest.raises(ConfigError, match="line 1"):
        save_theme(path, "nord")
    assert path.read_text(encoding="utf-8") == "theme = \n"


# -- session-tui config ---------------------------------------------------------------------
def test_config_path_and_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "config.toml", FULL)
    assert main(["config", "path", "--config", str(path)]) == 0
    assert capsys.readouterr().out.strip() == str(path)
    assert main(["config", "show", "--config", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["theme"] == "nord" and shown["keymap"]["app.quit"] == "ctrl+x"
    assert shown["database"] == str(tmp_path / "members.db")
    assert main(["config", "show", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert 'theme = "nord"' in text and '"contacts.delete" = "d,ctrl+d"' in text


def test_config_edit_opens_the_editor_then_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg" / "config.toml"
    editor = write(  # an "editor" that puts its first argument on the file's first line
        tmp_path / "editor.py",
        "import sys, pathlib\np = pathlib.Path(sys.argv[-1])\n"
        "p.write_text(sys.argv[1] + '\\n' + p.read_text())\n",
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor} 'theme = \"nord\"'")
    assert main(["config", "edit", "--config", str(path)]) == 0
    assert "valid" in capsys.readouterr().out
    assert path.read_text(encoding="utf-8").endswith(config.TEMPLATE)  # a new file: template
    assert load(path).theme == "nord"
    # an edit that breaks it: reported with its line, exit code 2
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor} 'bogus = 1'")
    assert main(["config", "edit", "--config", str(path), "--json"]) == 2
    error = json.loads(capsys.readouterr().err)
    assert error["code"] == "config" and "unknown setting 'bogus'" in error["error"]
    # an editor that does not exist
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    assert main(["config", "edit", "--config", str(path)]) == 2
    assert "cannot run the editor" in capsys.readouterr().err


# -- --version -----------------------------------------------------------------------------
def test_version_does_not_import_alembic_or_textual() -> None:
    import subprocess

    code = (
        "import sys\nfrom session_tui.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'textual'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"(database schema {SCHEMA_VERSION})" in out.stdout
    assert out.stdout.strip().endswith("[]")


# -- the real app in a pty -----------------------------------------------------------------
def _read_until(fd: int, needle: bytes, buffer: bytearray, limit: float = 30.0) -> bool:
    deadline = time.monotonic() + limit
    while needle not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return needle in buffer
            if not chunk:
                return needle in buffer
            buffer.extend(chunk)
    return True


def _wait_for_exit(pid: int, fd: int, buffer: bytearray, limit: float = 30.0) -> int:
    """The child's exit status; reads its output meanwhile. Kills it after `limit`."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                buffer.extend(os.read(fd, 65536))
            except OSError:
                pass
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the app did not quit on its remapped quit key")


def test_real_app_in_a_pty_uses_the_config_file(tmp_path: Path) -> None:
    script = shutil.which("session-tui", path=str(Path(sys.executable).parent))
    assert script, "the console script is installed beside the interpreter"
    home = tmp_path / "home"
    xdg_config = tmp_path / "xdg-config"
    xdg_data = tmp_path / "xdg-data"
    cfg = write(
        xdg_config / "session-tui" / "config.toml",
        'database = "~/team/members.db"\n\n[keymap]\n"app.quit" = "ctrl+x"\n',
    )
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SESSION_TUI_") and not k.startswith("XDG_") and k != "NO_COLOR"
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(xdg_config),
        XDG_DATA_HOME=str(xdg_data),
        TERM="xterm-256color",
        COLUMNS="100",
        LINES="30",
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real console script
        os.execve(script, [script], env)
    buffer = bytearray()
    try:
        assert _read_until(fd, b"palette", buffer), bytes(buffer[-2000:])
        assert (home / "team" / "members.db").is_file()  # the configured database
        assert not (xdg_data / "session-tui" / "session-tui.db").exists()  # not the default
        assert cfg.is_file()
        buffer.clear()
        os.write(fd, b"q")  # no longer quits: the app still answers ? with its help
        os.write(fd, b"?")
        assert _read_until(fd, b"Keys", buffer), bytes(buffer[-3000:])  # the help's title
        buffer.clear()
        os.write(fd, b"\r")  # close help (quit keys do nothing behind a dialog)
        assert _read_until(fd, b"No contacts", buffer), bytes(buffer[-3000:])
        os.write(fd, b"\x18")  # ctrl+x quits
        status = _wait_for_exit(pid, fd, buffer)
        pid = 0
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_config_keys_lists_every_binding_id_with_its_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "config.toml", FULL)
    assert main(["config", "keys", "--config", str(path), "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["app.quit"]["keys"] == "ctrl+x" and rows["app.quit"]["default"] == "q"
    assert rows["contacts.delete"]["keys"] == "d,ctrl+d"
    assert rows["contacts.delete"]["default"] == "d,delete"
    assert rows["table.sort"]["keys"] == rows["table.sort"]["default"] == "o"
