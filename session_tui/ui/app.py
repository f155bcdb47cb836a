"""The Textual app: top-level screens as modes, global keys, help, command palette.

Interface for the other screens
-------------------------------
- `SessionApp` holds the open `Database` (`db`), the clock (`clock`, tests freeze
  it) and the undo stack (`undo`); screens and dialogs reach them, typed, through
  `session(self)` (ui/context.py).
- Top-level screens are Textual *modes*: `SessionApp.MODES` maps each mode to its
  screen class, `TOP_SCREENS` to its key, binding id and title. A new top-level
  screen is one entry in each (its key binding is made from `TOP_SCREENS`).
- Global keys: `c` / `m` / `p` switch screens, `?` shows the help modal (every
  key of the current screen: see `screens/help.py`), `q` quits anywhere outside
  a text box, `ctrl+q` quits everywhere, `ctrl+p` opens the command palette,
  which offers every described binding of the current screen by name.
- Every binding should have a description and an `id`; that makes it appear in
  the help modal and the command palette.
- `make_app(db=db)` (the CLI) or `make_app(db_url=url)` (opens and owns the
  database; disposed on exit).
- Settings (config.toml, `session_tui.config`): `make_app(..., settings=…)` or
  `make_app(..., config_file=path)` applies the keymap (`App.set_keymap`, by binding
  id), the theme, the date format; `app.settings` holds them for the screens
  (e.g. `confirm_large_delete_above`). A bad file: the defaults, and a toast that
  says why. A theme chosen in the palette is saved back to the file.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual._context import active_app
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from session_tui import __version__, locations
from session_tui.config import ConfigError, Settings, save_theme
from session_tui.data.clock import utcnow
from session_tui.data.db import Database, needs_configured_database, open_database
from session_tui.ui import moments
from session_tui.ui.keymap import load_settings, normalize_keymap
from session_tui.ui.moments import Clock
from session_tui.ui.screens.contacts import ContactsScreen
from session_tui.ui.screens.top_screen import TopScreen
from session_tui.ui.undo import UndoStack
from session_tui.ui.user_text import clean, clean_paste, escape_markup
from session_tui.ui.widgets.paged_table.table import PagedTable

if TYPE_CHECKING:
    from concurrent.futures import Future

    from session_tui.data.repositories.contacts import ContactQuery, ContactRow
    from session_tui.ui.widgets.contacts.table import FirstRead

# mode -> (key, binding id, title). The first one is the start screen.
TOP_SCREENS: dict[str, tuple[str, str, str]] = {
    "contacts": ("c", "app.contacts", "Contacts"),
    "memberships": ("m", "app.memberships", "Memberships"),
    "products": ("p", "app.products", "Products"),
}


def _ready_to_show(screen: TopScreen) -> TopScreen:
    """A top screen as Textual makes it for its mode, with what its first showing would
    otherwise redo over the whole screen already in place (textual==8.2.8), so that
    its first showing restyles nothing (`TopScreen`):

    - the breakpoint class of the terminal's height (`VERTICAL_BREAKPOINTS`): set by
      the screen's first resize, it restyled every widget once more;
    - the stylesheet marked current for it: a new mode's screen makes Textual parse
      every stylesheet again and restyle the app, although its own stylesheet was
      read (and applied) when it was made (the Contacts one with the app's).

    At the start that restyle is also what first styles the App node itself (Textual
    applies the stylesheet to the App only after the App's compose, which waits for
    this screen to mount): the App is styled here instead, as then. Unstyled, it
    gives no text colour to inherit, and a widget drawn meanwhile (the empty state,
    shown at once when the count of an empty database is fast) keeps that
    transparent colour, text in the background's colour: Textual caches a widget's
    style until its *own* styles change, not its ancestors'.

    Together ~2 % of a start's CPU to the first paint (docs/performance.md, "First
    paint ... fourth round"), and the restyle of the first showing that
    `TopScreen` then skips ~2.5 % ("... fifth round"); what the screen shows is the
    same."""
    app = active_app.get()
    width, height = app.size
    for own, the_app, size in (
        (screen.HORIZONTAL_BREAKPOINTS, app.HORIZONTAL_BREAKPOINTS, width),
        (screen.VERTICAL_BREAKPOINTS, app.VERTICAL_BREAKPOINTS, height),
    ):  # as Screen._on_resize picks them
        breakpoints = (the_app if own is None else own) or []
        for name in screen._get_breakpoint_classes(size, breakpoints):
            screen.add_class(name, update=False)
    if not app._is_mounted:  # the start: see above
        app.stylesheet.apply(app)
    screen._css_update_count = app._css_update_count
    screen._styled_for_first_showing = True
    return screen


def _contacts_screen() -> Screen[None]:
    return _ready_to_show(ContactsScreen())


# The top screens other than Contacts: their modules load when they are first shown.
def _memberships_screen() -> Screen[None]:
    from session_tui.ui.screens.memberships import MembershipsScreen

    return _ready_to_show(MembershipsScreen())


def _products_screen() -> Screen[None]:
    from session_tui.ui.screens.products import ProductsScreen

    return _ready_to_show(ProductsScreen())


QUIT_HELP = "Quit (q outside text boxes, ctrl+q anywhere)"
# The longest the garbage collector stays paused after a start (see
# `pause_collection_until_painted`), should the first rows never come.
START_COLLECTION_PAUSE = 3.0


class SessionApp(App[None]):
    """session-tui: contacts, memberships and products of a coaching community."""

    # The first screen's stylesheet is read with the app's: a screen's CSS_PATH read
    # when the screen is first shown makes Textual parse every stylesheet again and
    # restyle the app (~15 ms before the first paint). Textual keeps one source per
    # path, so ContactsScreen's own CSS_PATH (the same file) adds nothing later.
    CSS_PATH = ["app.tcss", "screens/contacts.tcss"]
    TITLE = "session-tui"
    DEFAULT_MODE = "contacts"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "contacts": _contacts_screen,
        "memberships": _memberships_screen,
        "products": _products_screen,
    }
    HELP_SECTION = "Anywhere"
    # Every screen gets the class -short below 30 rows (e.g. 80x24): dialogs compact
    # themselves there (see app.tcss and the modals' .tcss) so every button fits.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"goto('{mode}')", title, show=False, id=binding_id)
            for mode, (key, binding_id, title) in TOP_SCREENS.items()
        ),
        Binding(
            "question_mark",
            "help",
            "Help",
            key_display="?",
            tooltip="Help: every key of this screen",
            id="app.help",
        ),
        Binding("q", "quit", "Quit", show=False, tooltip=QUIT_HELP, id="app.quit"),
        Binding(
            "ctrl+q",
            "quit_anywhere",
            "Quit",
            show=False,
            priority=True,
            tooltip=QUIT_HELP,
            id="app.quit_anywhere",
        ),
    ]

    def __init__(
        self,
        db: Database,
        *,
        owns_db: bool = False,
        settings: Settings | None = None,
        config_error: ConfigError | None = None,
    ) -> None:
        super().__init__()
        self.db: Database = db
        # tests freeze time by setting it; screens read it through session(self).clock
        self.clock: Clock = utcnow
        self.undo = UndoStack()
        self._owns_db = owns_db
        self.settings = settings or Settings()
        self.config_error = config_error
        # binding id -> keys, as applied (the help screen reads it too)
        self.keymap: dict[str, str] = normalize_keymap(self.settings.keymap)
        if self.keymap:
            self.set_keymap(self.keymap)
        # set before the theme: watch_theme compares with it (and saves nothing here)
        self._saved_theme = self.settings.theme or self.theme
        if self.settings.theme:
            self.theme = self.settings.theme
        moments.set_date_format(self.settings.date_format)
        self.sub_title = clean(db.display_name())
        self._collection_paused = False
        # The Contacts table's first read, started by `cli.prepare_app` (one use).
        self.first_read: FirstRead | None = None
        # mode -> title, of the screens this version has
        self.available_screens: dict[str, str] = {
            mode: top[2] for mode, top in TOP_SCREENS.items() if mode in self.MODES
        }

    # -- navigation -------------------------------------------------------------------
    def action_goto(self, mode: str) -> None:
        if mode not in self.available_screens:
            title = TOP_SCREENS.get(mode, ("", "", mode))[2]
            self.notify(
                f"The {escape_markup(title)} screen is not part of this version yet.",
                title="Not available",
                severity="warning",
            )
            return
        if mode != self.current_mode:
            self.switch_mode(mode)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("goto", "quit") and isinstance(self.screen, ModalScreen):
            # A dialog is open: its keys only (ctrl+q still quits).
            return False
        if action == "goto" and parameters and parameters[0] == self.current_mode:
            return False  # the key of the screen you are on: not shown
        return True

    async def action_quit_anywhere(self) -> None:
        await self.action_quit()

    def action_help(self) -> None:
        from session_tui.ui.screens.help import HelpScreen, collect_keys

        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        title = f"Keys · {screen.title or self.available_screens.get(self.current_mode, '')}"
        self.push_screen(HelpScreen(collect_keys(screen), title=title.rstrip(" ·")))

    # -- command palette ----------------------------------------------------------------
    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from session_tui.ui.screens.help import collect_keys

        seen: set[str] = set()
        for key in collect_keys(screen):
            if not key.enabled or key.description in seen or key.action == "command_palette":
                continue
            seen.add(key.description)
            yield SystemCommand(
                key.description,
                f"{key.detail or key.section} · key: {key.keys}",
                partial(self.run_action, key.action, key.node),
            )
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    # -- input ---------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Paste) and not event.is_forwarded:
            # Typed keys are printable only, but a paste arrives as it was copied:
            # escape sequences would reach text boxes (and the terminal) raw.
            event.text = clean_paste(event.text)
        await super().on_event(event)

    # -- settings ---------------------------------------------------------------------------
    def watch_theme(self, theme: str) -> None:
        """A theme chosen in the palette is saved in config.toml (the rest of it kept)."""
        if theme == self._saved_theme or self.settings.path is None:
            return
        self._saved_theme = theme
        try:
            save_theme(self.settings.path, theme)
        except ConfigError as exc:
            self.notify(
                escape_markup(str(exc)), title="Theme not saved", severity="warning", timeout=10
            )

    # -- lifecycle -------------------------------------------------------------------------
    def pause_collection_until_painted(self) -> None:
        """The garbage collector, paused by the caller (`cli.prepare_app`), stays paused
        until the first table has painted its first rows (at most
        START_COLLECTION_PAUSE seconds), then collects again: the start creates few
        cycles, and its ~80 young-generation collections cost ~10 % of the CPU to the
        first paint (docs/performance.md, "First paint, third round")."""
        self._collection_paused = True

    def take_first_read(
        self, query: ContactQuery
    ) -> Future[tuple[int | None, list[ContactRow]]] | None:
        """The first read started at the app's start (`first_read`) if it is `query`'s,
        handed over once (a later table, or another query, reads for itself)."""
        first, self.first_read = self.first_read, None
        if first is None or first[0] != query:
            return None
        return first[1]

    def _resume_collection(self) -> None:
        if self._collection_paused:
            self._collection_paused = False
            gc.enable()

    @on(PagedTable.CountChanged)
    def _first_rows_in(self) -> None:
        if self._collection_paused:  # painted at the next refresh
            self.call_after_refresh(self._resume_collection)

    def on_mount(self) -> None:
        if self._collection_paused:
            self.set_timer(START_COLLECTION_PAUSE, self._resume_collection)
        if self.config_error is not None:
            self.notify(
                escape_markup(f"{self.config_error}. Started with the default settings."),
                title="Settings file not used",
                severity="error",
                timeout=20,
            )

    def on_unmount(self) -> None:
        self._resume_collection()
        if self._owns_db:
            self.db.dispose()


def make_app(
    db: Database | None = None,
    db_url: str | None = None,
    *,
    settings: Settings | None = None,
    config_error: ConfigError | None = None,
    config_file: str | Path | None = None,
) -> SessionApp:
    """The app on an open database, or on the database at `db_url` (opened here).

    `settings` (already checked) or `config_file` (read and checked here: a bad file
    gives the defaults and a toast); neither: the default settings, no file read.
    Without `db`, the database is `db_url`, else $SESSION_TUI_DB, else the settings'
    `database`, else the default.
    """
    if settings is None and config_file is not None:
        settings, config_error = load_settings(locations.config_path(config_file))
    if db is not None:
        return SessionApp(db, settings=settings, config_error=config_error)
    configured = settings.database if settings and needs_configured_database(db_url) else None
    return SessionApp(
        open_database(db_url, configured=configured),
        owns_db=True,
        settings=settings,
        config_error=config_error,
    )


__all__ = ["SessionApp", "TOP_SCREENS", "load_settings", "make_app", "__version__"]
