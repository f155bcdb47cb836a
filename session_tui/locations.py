"""Where session-tui keeps its files. The only module that talks to platformdirs."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP_NAME = "session-tui"
# Chooses another settings file (as `--config FILE` does).
CONFIG_ENV = "SESSION_TUI_CONFIG"


def make_private_dirs(path: Path) -> None:
    """Create `path` and every missing parent 0700, whatever the umask (mkdir's
    `parents=True` gives 0777 & ~umask: 0777 under umask 000). Folders that
    exist keep their mode."""
    missing: list[Path] = []
    current = path
    while not os.path.lexists(current) and current.parent != current:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue  # created meanwhile by another process: leave it
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass


def _private_dir(path: Path) -> Path:
    make_private_dirs(path)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path


def data_dir() -> Path:
    """The user data directory (created 0700). `SESSION_TUI_DATA_DIR` overrides it (tests)."""
    override = os.environ.get("SESSION_TUI_DATA_DIR")
    base = Path(override) if override else user_data_path(APP_NAME)
    return _private_dir(base)


def default_db_path() -> Path:
    return data_dir() / "session-tui.db"


def backups_dir() -> Path:
    return _private_dir(data_dir() / "backups")


def config_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The settings file: `--config FILE` (`override`), else $SESSION_TUI_CONFIG, else
    `config.toml` in the user config directory (platformdirs: $XDG_CONFIG_HOME on
    Linux). Nothing is created here; the file may not exist."""
    explicit = override or os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return user_config_path(APP_NAME) / "config.toml"


def column_mappings_path() -> Path:
    """The CSV column mappings remembered per header set (a JSON file in the data
    directory; the directory is created 0700, the file is not created here)."""
    return data_dir() / "column-mappings.json"
