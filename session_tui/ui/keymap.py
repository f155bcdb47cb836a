"""The `[keymap]` of config.toml, where the UI knows its bindings.

- `load_settings(path)`: the settings file checked completely (session_tui.config
  for the syntax and values; here the binding ids, the theme, and keys that would
  do two things on one screen). A bad file gives the defaults and the one-line
  reason, never an exception.
- `declared_bindings(cls)` / `bindings_of(node, keymap)`: a class's bindings from
  its `BINDINGS` (public API), with a keymap applied the way Textual applies it
  (`BindingsMap.apply_keymap`); the help screen uses them for widgets outside the
  focus chain.

Every binding of the app has an `id` (e.g. "app.quit", "contacts.delete"); the
keymap maps ids to keys, and `App.set_keymap` applies it (SessionApp does).
"""

from __future__ import annotations

import difflib
import importlib
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.theme import BUILTIN_THEMES
from textual.widget import Widget

from session_tui.config import ConfigError, Settings, load_or_defaults


def normalize_keys(keys: str) -> str:
    """ "?,d" -> "question_mark,d": key names as Textual stores them."""
    return ",".join(b.key for b in Binding.make_bindings([Binding(keys, "noop")]))


def normalize_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    return {binding_id: normalize_keys(keys) for binding_id, keys in keymap.items()}


def declared_bindings(cls: type[DOMNode], *, ours_only: bool = False) -> BindingsMap:
    """The bindings a node of class `cls` starts with, from the `BINDINGS` of its
    classes merged as Textual merges them (a subclass's key replaces the base's);
    `ours_only`: only session-tui's classes' bindings."""
    merged: dict[str, list[Binding]] = {}
    for base in reversed(cls.__mro__):
        if not (isinstance(base, type) and issubclass(base, DOMNode)):
            continue
        # `inherit_bindings=False` in a class statement (Textual has no public accessor).
        if not getattr(base, "_inherit_bindings", True):
            merged.clear()
        if ours_only and not base.__module__.startswith("session_tui"):
            continue
        own: dict[str, list[Binding]] = {}
        for binding in Binding.make_bindings(base.__dict__.get("BINDINGS", [])):
            own.setdefault(binding.key, []).append(binding)
        merged.update(own)
    return BindingsMap.from_keys(merged)


def bindings_of(cls: type[DOMNode], keymap: Mapping[str, str]) -> BindingsMap:
    """`declared_bindings(cls)` (session-tui's own) with `keymap` applied."""
    bindings = declared_bindings(cls, ours_only=True)
    if keymap:
        bindings.apply_keymap(dict(keymap))
    return bindings


# -- every class of the UI ------------------------------------------------------------------
_UI_PACKAGE = "session_tui.ui"
_APP_MODULE = "session_tui.ui.app"


def _ui_modules() -> list[ModuleType]:
    """Every module of the UI package, the app's first (its declarations win).

    Found by walking the package when a keymap is checked, not imported by name: the
    app imports this module to check its settings, so naming the app (or any screen)
    here would tie the two together."""
    import pkgutil  # only when a keymap is checked

    package = importlib.import_module(_UI_PACKAGE)
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(package.__path__, f"{_UI_PACKAGE}.")
    ]
    return sorted(modules, key=lambda module: module.__name__ != _APP_MODULE)


def _classes_in(module: ModuleType) -> Iterable[type[DOMNode]]:
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, DOMNode)
            and value.__module__ == module.__name__
        ):
            yield value


def ui_classes() -> list[type[DOMNode]]:
    """Every DOM node class session-tui defines (screens, modals, widgets, the app)."""
    seen: dict[str, type[DOMNode]] = {}
    for module in _ui_modules():
        for cls in _classes_in(module):
            seen[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(seen.values())


def binding_ids(classes: Iterable[type[DOMNode]] | None = None) -> dict[str, str]:
    """binding id -> where it is declared ("ContactsScreen: Delete")."""
    ids: dict[str, str] = {}
    for cls in ui_classes() if classes is None else classes:
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if binding.id:
                ids.setdefault(binding.id, f"{cls.__name__}: {binding.description}")
    return ids


_LAZY_IMPORT = re.compile(r"^\s+from\s+(session_tui\.ui\.widgets[\w.]*)\s+import", re.M)


def _source(module: ModuleType) -> str:
    try:
        return Path(module.__file__ or "").read_text(encoding="utf-8")
    except OSError:
        return ""


def binding_table(keymap: Mapping[str, str]) -> list[dict[str, str]]:
    """Every binding id with its default keys, its keys under `keymap`, its description
    (for `session-tui config keys`)."""
    rows: dict[str, dict[str, str]] = {}
    normalized = normalize_keymap(keymap)
    for cls in ui_classes():
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if not binding.id:
                continue
            row = rows.setdefault(
                binding.id,
                {"id": binding.id, "default": "", "keys": "", "description": "", "where": ""},
            )
            if row["where"] and row["where"] != cls.__name__:
                continue  # one id declared by two classes: the first one's keys
            row["where"] = cls.__name__
            row["default"] = ",".join(filter(None, [row["default"], binding.key]))
            row["description"] = row["description"] or binding.description or binding.action
    for binding_id, row in rows.items():
        row["keys"] = normalized.get(binding_id, row["default"])
    return [rows[k] for k in sorted(rows)]


def _widgets_used_by(cls: type[DOMNode]) -> set[type[DOMNode]]:
    """Widget classes a screen's module (and theirs, transitively) refers to: the
    widgets that can be on that screen."""
    found: set[type[DOMNode]] = set()
    pending = [sys.modules[cls.__module__]]
    visited: set[str] = set()
    while pending:
        module = pending.pop()
        if module.__name__ in visited:
            continue
        visited.add(module.__name__)
        # Widgets imported inside functions (lazily) count too.
        for name in _LAZY_IMPORT.findall(_source(module)):
            if name in sys.modules:
                pending.append(sys.modules[name])
        for value in vars(module).values():
            if isinstance(value, ModuleType) and value.__name__.startswith(
                "session_tui.ui.widgets"
            ):
                pending.append(value)
            elif (
                isinstance(value, type)
                and issubclass(value, Widget)
                and not issubclass(value, Screen)
                and value.__module__.startswith("session_tui")
                and value not in found
            ):
                found.add(value)
                pending.append(sys.modules[value.__module__])
    return found


# (layer, binding): layer "" for the screen's and the app's keys (always in the focus
# chain), else the widget class's name (only while that widget or a child has focus).
Layered = tuple[str, Binding]
Scope = tuple[str, list[Layered]]


def _layer(layer: str, cls: type[DOMNode]) -> list[Layered]:
    return [(layer, b) for _, b in declared_bindings(cls)]


def _scopes(classes: list[type[DOMNode]]) -> list[Scope]:
    """(name, every binding that can act there): each screen with its widgets and the
    app's keys (only the priority ones behind a modal), and each other widget with
    the app's keys."""
    apps = [cls for cls in classes if issubclass(cls, App)]  # SessionApp
    app_bindings = [layered for app in apps for layered in _layer("", app)]
    priority = [(layer, b) for layer, b in app_bindings if b.priority]
    scopes: list[Scope] = []
    placed: set[type[DOMNode]] = set()
    for cls in classes:
        if not issubclass(cls, Screen):
            continue
        members = _widgets_used_by(cls)
        placed |= members
        bindings = _layer("", cls)
        for widget in members:
            bindings += _layer(widget.__qualname__, widget)
        extra = priority if issubclass(cls, ModalScreen) else app_bindings
        scopes.append((_label(cls), bindings + extra))
    for cls in classes:
        if issubclass(cls, Widget) and not issubclass(cls, Screen) and cls not in placed:
            scopes.append((_label(cls), _layer(cls.__qualname__, cls) + app_bindings))
    return scopes


def _label(cls: type[DOMNode]) -> str:
    name = cls.__name__
    if issubclass(cls, ModalScreen):
        return f"the {name.removesuffix('Modal').removesuffix('Screen')} dialog"
    if issubclass(cls, Screen):
        return f"the {name.removesuffix('Screen')} screen"
    return f"the {name} widget"


def _clashes(scope: list[Layered], keymap: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """key -> the binding ids (or actions) on it, where they would do different things
    in one focus chain (two sibling widgets may share a key: one has focus at a time)."""
    on_key: dict[str, list[tuple[str, str, str]]] = {}
    for layer, binding in scope:
        keys = [binding.key]
        if binding.id and binding.id in keymap:
            keys = keymap[binding.id].split(",")
        for key in keys:
            on_key.setdefault(key, []).append((layer, binding.id or binding.action, binding.action))
    clashes: dict[str, frozenset[str]] = {}
    for key, entries in on_key.items():
        owners = {
            owner
            for layer, owner, action in entries
            for other_layer, _, other_action in entries
            if action != other_action and (not layer or not other_layer or layer == other_layer)
        }
        if owners:
            clashes[key] = frozenset(owners)
    return clashes


def check(settings: Settings) -> ConfigError | None:
    """The first problem the UI finds in `settings` (binding ids, theme, clashes)."""
    if settings.theme is not None and settings.theme not in BUILTIN_THEMES:
        close = difflib.get_close_matches(settings.theme, list(BUILTIN_THEMES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return settings.error("theme", f"unknown theme {settings.theme!r}{hint}")
    if not settings.keymap:
        return None
    classes = ui_classes()
    known = binding_ids(classes)
    for binding_id in settings.keymap:
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return settings.error(
                f"keymap.{binding_id}", f"unknown binding id {binding_id!r}{hint}"
            )
    keymap = normalize_keymap(settings.keymap)
    for name, scope in _scopes(classes):
        before = _clashes(scope, {})
        for key, owners in _clashes(scope, keymap).items():
            if before.get(key) == owners:
                continue  # as designed (e.g. a dialog's key over a screen's)
            remapped = sorted(owner for owner in owners if owner in keymap)
            ids = " and ".join(sorted(owners))
            return settings.error(
                f"keymap.{remapped[0]}" if remapped else "keymap",
                f"{format_key(key)!r} would do two things on {name}: {ids}",
            )
    return None


def load_settings(path: Path) -> tuple[Settings, ConfigError | None]:
    """The settings file checked completely; the defaults and the reason when it is bad."""
    settings, problem = load_or_defaults(path)
    if problem is None:
        problem = check(settings)
        if problem is not None:
            settings = settings.defaults()
    return settings, problem
