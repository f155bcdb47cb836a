"""The settings file, `config.toml` (see docs/settings.md). No Textual here.

    theme = "nord"
    database = "~/coaching/members.db"
    confirm_large_delete_above = 100
    date_format = "%d.%m.%Y"

    [keymap]
    "app.quit" = "ctrl+x"
    "contacts.delete" = "d,delete,ctrl+d"

`load(path)` reads and checks the file (TOML syntax, known keys, value types);
binding ids and themes are checked by the UI, which knows them
(`session_tui.ui.keymap.check`). Every problem is a `ConfigError` whose message
is one line naming the file and the line. `save_theme` rewrites the `theme` line
atomically and keeps everything else in the file as it was.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
# Deleting more contacts than this asks for the count to be typed.
DEFAULT_CONFIRM_LARGE_DELETE_ABOVE = 1000

KNOWN_KEYS = ("theme", "database", "confirm_large_delete_above", "date_format", "keymap")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TABLE = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]\s*(#.*)?$")


class ConfigError(Exception):
    """A problem in the settings file; `str()` is one line naming the file and line."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}" if line is None else f"{path} line {line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Settings:
    """The settings in effect (defaults where the file says nothing)."""

    path: Path | None = None
    theme: str | None = None
    database: str | None = None
    confirm_large_delete_above: int = DEFAULT_CONFIRM_LARGE_DELETE_ABOVE
    date_format: str = DEFAULT_DATE_FORMAT
    keymap: Mapping[str, str] = field(default_factory=dict)
    # "theme", "keymap.app.quit", … -> line number in the file (for error messages)
    lines: Mapping[str, int] = field(default_factory=dict)

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError about `key` ("theme", "keymap.<id>"), naming its line."""
        line = self.lines.get(key) or self.lines.get(key.split(".", 1)[0])
        return ConfigError(self.path or Path("config.toml"), message, line)

    def defaults(self) -> Settings:
        """Default settings for the same file (what a bad file falls back to)."""
        return Settings(path=self.path)


def _plain(text: str) -> str:
    """Shown in a one-line message: no control characters, not too long."""
    text = _CONTROL.sub("?", text)
    return text if len(text) <= 60 else text[:57] + "…"


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers of keys: "theme" -> 2, "keymap" -> 5, "keymap.app.quit" -> 6.

    Keys of a table are prefixed with the table's name; quotes and spaces around
    dots are ignored, so `"app.quit" = …` and `app.quit = …` map the same.
    """
    lines: dict[str, int] = {}
    table = ""
    for number, raw in enumerate(text.splitlines(), 1):
        match = _TABLE.match(raw)
        if match:
            table = match.group(1).replace('"', "").replace("'", "").replace(" ", "")
            lines.setdefault(table, number)
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key = stripped.split("=", 1)[0].strip().replace('"', "").replace("'", "")
        key = ".".join(part.strip() for part in key.split("."))
        name = f"{table}.{key}" if table else key
        lines.setdefault(name, number)
    return lines


def _toml_line(exc: Exception, text: str) -> int | None:
    match = re.search(r"at line (\d+)", str(exc))
    if match:
        return int(match.group(1))
    if "end of document" in str(exc):
        return max(1, len(text.splitlines()))
    return None


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`app.quit = "x"` (unquoted) parses as nested tables: join the parts again."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _keys_value(value: Any) -> str | None:
    """A keymap value: "ctrl+x" or "d,delete" or ["d", "delete"] -> "d,delete"."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str):
        return None
    keys = [k.strip() for k in value.split(",")]
    if not all(keys) or any(_CONTROL.search(k) or " " in k for k in keys):
        return None
    return ",".join(keys)


def check_date_format(fmt: str) -> str | None:
    """None when `fmt` is a usable strftime format, else why not."""
    if "%" not in fmt:
        return 'has no % directive (e.g. "%d.%m.%Y")'
    if len(fmt) > 40:
        return "is longer than 40 characters"
    try:
        sample = datetime(2026, 12, 31, 23, 59).strftime(fmt)
    except (ValueError, OverflowError) as exc:
        return f"is not a strftime format ({exc})"
    if _CONTROL.search(sample):
        return "would show control characters"
    return None


def parse(text: str, path: Path) -> Settings:
    """Settings from the text of a config file; raises ConfigError."""
    import tomllib  # only with a settings file (~2 ms of every start otherwise)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", str(exc))
        raise ConfigError(path, f"not valid TOML: {reason}", _toml_line(exc, text)) from None
    lines = _key_lines(text)

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(path, message, lines.get(key) or lines.get(key.split(".", 1)[0]))

    for key in data:
        if key not in KNOWN_KEYS:
            known = ", ".join(KNOWN_KEYS)
            raise fail(key, f"unknown setting {_plain(key)!r} (known: {known})")
    values: dict[str, Any] = {}
    for key in ("theme", "database"):
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
                raise fail(key, f"{key} must be a non-empty text in quotes")
            values[key] = value.strip()
    if "confirm_large_delete_above" in data:
        value = data["confirm_large_delete_above"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail(
                "confirm_large_delete_above",
                "confirm_large_delete_above must be a whole number, 0 or more",
            )
        values["confirm_large_delete_above"] = value
    if "date_format" in data:
        value = data["date_format"]
        problem = "must be text" if not isinstance(value, str) else check_date_format(value)
        if problem:
            raise fail("date_format", f"date_format {problem}")
        values["date_format"] = value
    keymap: dict[str, str] = {}
    if "keymap" in data:
        if not isinstance(data["keymap"], dict):
            raise fail("keymap", 'keymap must be a table: [keymap] then "binding.id" = "keys"')
        for binding_id, raw in _flatten(data["keymap"]).items():
            keys = _keys_value(raw)
            if keys is None:
                raise fail(
                    f"keymap.{binding_id}",
                    f'keys for {_plain(binding_id)!r} must be text like "ctrl+x" or '
                    '"d,delete" (comma-separated key names, no spaces)',
                )
            keymap[binding_id] = keys
    if "database" in values:
        values["database"] = _database_relative_to(values["database"], path)
    return Settings(path=path, keymap=keymap, lines=lines, **values)


def _database_relative_to(value: str, path: Path) -> str:
    """A relative file path is relative to the config file's folder; `~` is expanded."""
    if "://" in value:
        return value
    db = Path(value).expanduser()
    if not db.is_absolute():
        db = path.expanduser().resolve().parent / db
    return str(db)


def read_text(path: Path) -> str | None:
    """The file's text, None when it does not exist; ConfigError when unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ConfigError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read it: {exc.strerror or exc}") from None


def load(path: Path) -> Settings:
    """The settings in `path` (defaults when the file does not exist); raises ConfigError."""
    text = read_text(path)
    if text is None:
        return Settings(path=path)
    return parse(text, path)


def load_or_defaults(path: Path) -> tuple[Settings, ConfigError | None]:
    """The settings, or the defaults and the reason when the file is bad."""
    try:
        return load(path), None
    except ConfigError as exc:
        return Settings(path=path), exc


# -- writing ------------------------------------------------------------------------------
def _set_top_level(text: str, key: str, value: str) -> str:
    """`text` with the top-level `key = value` line replaced (or added before the first
    table); comments, other keys and tables stay exactly as they were."""
    new_line = f"{key} = {value}"
    lines = text.splitlines()
    first_table = len(lines)
    for index, raw in enumerate(lines):
        if _TABLE.match(raw):
            first_table = index
            break
        stripped = raw.strip()
        if "=" in stripped and not stripped.startswith("#"):
            name = stripped.split("=", 1)[0].strip().strip("\"'")
            if name == key:
                lines[index] = new_line
                return "\n".join(lines) + "\n"
    insert_at = first_table
    while insert_at > 0 and not lines[insert_at - 1].strip():
        insert_at -= 1  # right after the last top-level line, before the blank ones
    lines.insert(insert_at, new_line)
    if insert_at + 1 < len(lines) and _TABLE.match(lines[insert_at + 1]):
        lines.insert(insert_at + 1, "")
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (a temporary file renamed over it); a new
    file is private (0600), an existing one keeps its mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path.resolve() if path.is_symlink() else path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_theme(path: Path, theme: str) -> None:
    """Write `theme = "<theme>"` into the file, keeping the rest of it.

    Raises ConfigError (nothing written) when the file is bad or cannot be written.
    """
    text = read_text(path) or ""
    parse(text, path)  # a file with errors is not touched
    new_text = _set_top_level(text, "theme", json.dumps(theme, ensure_ascii=False))
    if parse(new_text, path).theme != theme:  # pragma: no cover - defensive
        raise ConfigError(path, "could not save the theme")
    try:
        write_atomically(path, new_text)
    except OSError as exc:
        raise ConfigError(path, f"cannot write it: {exc.strerror or exc}") from None


def describe(settings: Settings) -> str:
    """The settings in effect, as TOML (for `session-tui config show`)."""
    out = []
    if settings.theme is not None:
        out.append(f"theme = {json.dumps(settings.theme, ensure_ascii=False)}")
    if settings.database is not None:
        out.append(f"database = {json.dumps(settings.database, ensure_ascii=False)}")
    out.append(f"confirm_large_delete_above = {settings.confirm_large_delete_above}")
    out.append(f"date_format = {json.dumps(settings.date_format, ensure_ascii=False)}")
    out.append("")
    out.append("[keymap]")
    for binding_id, keys in sorted(settings.keymap.items()):
        out.append(f"{json.dumps(binding_id)} = {json.dumps(keys)}")
    return "\n".join(out) + "\n"


TEMPLATE = """\
# session-tui settings (docs/settings.md). Lines starting with # are comments.

# Any Textual theme; choosing one in the app (ctrl+p, "Theme") saves it here.
# theme = "nord"

# The database when neither --db nor $SESSION_TUI_DB is given: a SQLite file
# (relative to this file's folder; ~ is expanded) or postgresql://user@host/db.
# database = "~/coaching/members.db"

# Deleting more contacts than this asks you to type how many.
# confirm_large_delete_above = 1000

# How the app shows dates (strftime); dates you type stay YYYY-MM-DD.
# date_format = "%Y-%m-%d"

# Keys by binding id (see the ? help screen and docs/settings.md for the ids).
# Several keys: "d,delete". A remapped binding loses its old keys.
[keymap]
# "app.quit" = "ctrl+x"
# "contacts.delete" = "d,delete"
"""
