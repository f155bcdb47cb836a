"""config.toml in the app: the keymap (old keys stop, new keys act, help shows them),
a bad file (defaults + a toast naming the line), the theme saved back, the typed
count for large deletions, the date format."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from session_tui.config import Settings
from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.ui.app import make_app
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.moments import set_date_format
from session_tui.ui.screens.help import HelpScreen
from tests.ui.contacts_helpers import (
    contacts_screen,
    numbered_people,
    seed,
    settle,
    wait_until,
)

SIZE = (120, 40)

REMAP = """\
# my keys
theme = "textual-dark"

[keymap]
"app.quit" = "ctrl+x"
"contacts.delete" = "ctrl+d"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def notes(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def test_remapped_quit_and_delete_old_keys_stop_new_keys_act(
    sqlite_db: Database, tmp_path: Path
) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_app(db=sqlite_db, config_file=write(tmp_path, REMAP))
    assert app.config_error is None
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        # The old keys do nothing any more.
        await pilot.press("d", "delete", "q")
        await pilot.pause()
        assert app.is_running
        assert not isinstance(app.screen, ConfirmModal)
        # The new delete key opens the confirmation; cancel it.
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        assert ContactsRepository(sqlite_db).total() == 3
        # The new quit key quits.
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert not app.is_running


async def test_help_screen_shows_the_keys_as_remapped(sqlite_db: Database, tmp_path: Path) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_app(db=sqlite_db, config_file=write(tmp_path, REMAP))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        by_action = {k.action: k.keys for k in help_screen.keys}
        assert by_action["delete_contacts"] == "^d"
        assert by_action["quit"] == "^x"
        text = str(help_screen.query_one("#help-keys").render())
        assert "^d" in text and "^x" in text


async def test_help_lists_remapped_keys_of_widgets_outside_the_focus_chain(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """The table's keys while the search box has focus: read from BINDINGS + keymap."""
    seed(sqlite_db, numbered_people(3))
    config = write(tmp_path, '[keymap]\n"table.invert" = "ctrl+t,ctrl+g"\n')
    app = make_app(db=sqlite_db, config_file=config)
    assert app.config_error is None
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("slash")  # focus the search box (it takes "?")
        await pilot.pause()
        app.action_help()
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert isinstance(app.screen, HelpScreen)
        keys = {k.action: k.keys for k in app.screen.keys}
        assert keys["invert_selection"] == "^t / ^g"


BAD_FILES = {
    "toml": ('theme = "nord"\nkeymap = [\n', 2, "not valid TOML"),
    "unknown key": ('theme = "nord"\n\ncolour = "red"\n', 3, "unknown setting 'colour'"),
    "unknown id": ('[keymap]\n"app.quit" = "ctrl+x"\n"app.qiut" = "x"\n', 3, "'app.qiut'"),
    "clash": ('# x exports on Contacts\n[keymap]\n"app.quit" = "x"\n', 3, "two things"),
    "bad value": ('confirm_large_delete_above = "many"\n', 1, "whole number"),
    "unknown theme": ('theme = "neon-pink"\n', 1, "unknown theme"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
async def test_a_bad_file_starts_with_defaults_and_a_toast_naming_the_line(
    sqlite_db: Database, tmp_path: Path, kind: str
) -> None:
    text, line, reason = BAD_FILES[kind]
    config = write(tmp_path, text)
    seed(sqlite_db, numbered_people(2))
    app = make_app(db=sqlite_db, config_file=config)
    assert app.config_error is not None
    message = str(app.config_error)
    assert "\n" not in message
    assert f"{config} line {line}: " in message and reason in message
    assert app.settings == Settings(path=config)  # the defaults, all of them
    assert app.keymap == {}
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot, contacts_screen(app).table)
        assert any(f"line {line}" in n and "default settings" in n for n in notes(app))
        await pilot.press("q")  # the default keys work
        await pilot.pause()
        assert not app.is_running


async def test_a_theme_chosen_in_the_app_is_saved_keeping_the_rest(
    sqlite_db: Database, tmp_path: Path
) -> None:
    config = write(tmp_path, REMAP)
    app = make_app(db=sqlite_db, config_file=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        app.theme = "nord"  # what the palette's theme picker does
        await pilot.pause()
    saved = config.read_text(encoding="utf-8")
    assert saved == REMAP.replace('theme = "textual-dark"', 'theme = "nord"')


async def test_a_theme_from_the_file_is_applied_at_start_and_nothing_rewritten(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """A non-default theme in the file: the app starts with it (this crashed in
    __init__ once: the theme watcher ran before its state existed)."""
    text = REMAP.replace('theme = "textual-dark"', 'theme = "nord"')
    assert 'theme = "nord"' in text
    config = write(tmp_path, text)
    app = make_app(db=sqlite_db, config_file=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
    assert config.read_text(encoding="utf-8") == text


async def test_no_settings_file_given_nothing_is_written(
    sqlite_db: Database, tmp_path: Path
) -> None:
    app = make_app(db=sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        await pilot.pause()
    assert list(tmp_path.glob("*.toml")) == []


async def test_a_large_delete_asks_for_the_count_to_be_typed(
    sqlite_db: Database, tmp_path: Path
) -> None:
    seed(sqlite_db, numbered_people(5))
    app = make_app(db=sqlite_db, config_file=write(tmp_path, "confirm_large_delete_above = 2\n"))
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("space", "space", "space")  # select 3 > 2
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        modal = app.screen
        from textual.widgets import Button, Input

        assert modal.query_one("#confirm-yes", Button).disabled
        await pilot.press("y", "enter")  # y is typed into the box, not an answer
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert ContactsRepository(sqlite_db).total() == 5
        box = modal.query_one("#confirm-count", Input)
        box.value = ""
        await pilot.press("3")
        await pilot.pause()
        assert not modal.query_one("#confirm-yes", Button).disabled
        await pilot.press("enter")
        await wait_until(pilot, lambda: ContactsRepository(sqlite_db).total() == 2)


async def test_a_small_delete_still_needs_only_y(sqlite_db: Database, tmp_path: Path) -> None:
    seed(sqlite_db, numbered_people(5))
    app = make_app(db=sqlite_db, config_file=write(tmp_path, "confirm_large_delete_above = 2\n"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        await pilot.press("space", "space", "d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert not app.screen.query("#confirm-count")
        await pilot.press("y")
        await wait_until(pilot, lambda: ContactsRepository(sqlite_db).total() == 3)


def test_date_format_is_used_where_the_ui_shows_dates(sqlite_db: Database) -> None:
    from session_tui.ui.moments import day, local_time
    from session_tui.ui.widgets.contacts.table import joined_text

    try:
        make_app(db=sqlite_db, settings=Settings(date_format="%d.%m.%Y"))
        moment = datetime(2026, 1, 31, 12, 0)
        assert day(moment) == "31.01.2026"
        assert joined_text(moment).endswith(".01.2026")
        assert local_time(moment).startswith(joined_text(moment))
        make_app(db=sqlite_db)  # the next app: the default again
        assert day(moment) == "2026-01-31"
    finally:
        set_date_format(None)


def test_no_color_is_honoured_by_the_app(sqlite_db: Database, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_app(db=sqlite_db).no_color
    monkeypatch.delenv("NO_COLOR")
    assert not make_app(db=sqlite_db).no_color
