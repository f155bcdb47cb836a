"""The help modal (`?`): every key of the current screen, and how keys are collected.

`collect_keys(screen)` gathers the bindings that apply on a screen: the focused
widget and its ancestors (Textual's active bindings), every other session-tui
widget on the screen that has keys (e.g. the table while the search box has
focus), and the app's global keys. Bindings without a description, system
bindings and Textual's own widgets' editing keys are left out. The command
palette (`ctrl+p`, see app.py) offers the same list by name.

Give every binding a description (and an `id`): that is all it takes to appear
here and in the palette. The footer shows the short `description`; help and the
palette show the `tooltip` when there is one (a longer explanation). A widget or
screen may set `HELP_SECTION = "…"` to name its group (default: the class name without "Screen").
A widget or screen may also set `HELP_EXTRA = (title, text)`: a block of reference
text shown once after the keys (first, when the focus is inside that widget) -- the
Contacts screen and the filter panel show the filter-syntax cheat sheet this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from session_tui.ui.keymap import bindings_of
from session_tui.ui.user_text import clean, literal


@dataclass(frozen=True)
class KeyHelp:
    """One action and the keys that trigger it."""

    keys: str  # e.g. "up / k"
    description: str  # short (the footer's)
    section: str
    action: str
    node: DOMNode
    enabled: bool = True
    detail: str = ""  # the binding's tooltip, a longer explanation

    @property
    def long_description(self) -> str:
        return self.detail or self.description


def _ours(node: DOMNode) -> bool:
    return type(node).__module__.startswith("session_tui")


def _own_actions(node: DOMNode) -> set[tuple[str, str]]:
    """(action, description) of the bindings declared by session-tui classes of `node`.

    Keys inherited from Textual's base classes (scroll left/right, focus next…)
    are not part of this app's documented keys.
    """
    own: set[tuple[str, str]] = set()
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("session_tui"):
            continue
        for b in cls.__dict__.get("BINDINGS", []):
            if isinstance(b, Binding):
                own.add((b.action, b.description))
            elif isinstance(b, tuple) and len(b) >= 2:
                own.add((b[1], b[2] if len(b) > 2 else ""))
    return own


def section_of(node: DOMNode) -> str:
    explicit = getattr(node, "HELP_SECTION", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    if isinstance(node, Screen):
        name = type(node).__name__.removesuffix("Screen")
        return name or "Screen"
    if node is node.app:
        return "Anywhere"
    return type(node).__name__


def _check(node: DOMNode, action: str) -> bool | None:
    try:
        name, params = parse(action)[1:]
    except Exception:  # noqa: BLE001 - a malformed action is simply listed
        return True
    return node.check_action(name, params)


def collect_keys(screen: Screen[object]) -> list[KeyHelp]:
    """Every described key that works on `screen`, grouped by the node that owns it."""
    app = screen.app
    entries: dict[tuple[int, str], tuple[list[str], Binding, DOMNode, bool]] = {}
    order: list[tuple[int, str]] = []

    own: dict[int, set[tuple[str, str]]] = {}

    def add(node: DOMNode, binding: Binding, enabled: bool) -> None:
        if not binding.description or binding.system or not _ours(node):
            return
        if id(node) not in own:
            own[id(node)] = _own_actions(node)
        if (binding.action, binding.description) not in own[id(node)]:
            return
        ident = (id(node), binding.action)
        display = app.get_key_display(binding)
        if ident in entries:
            keys = entries[ident][0]
            if display not in keys:
                keys.append(display)
            return
        entries[ident] = ([display], binding, node, enabled)
        order.append(ident)

    seen_keys: set[tuple[int, str]] = set()
    for key, active in screen.active_bindings.items():
        seen_keys.add((id(active.node), key))
        add(active.node, active.binding, active.enabled)
    # Widgets of this screen that are not in the focus chain (e.g. the table while
    # the search box has focus) still have keys worth knowing.
    # Their keys come from their classes' BINDINGS with the app's keymap applied
    # (public API: no reading of Textual's private binding maps).
    keymap = getattr(app, "keymap", None) or {}
    for widget in screen.walk_children(Widget):
        if not _ours(widget):
            continue
        for key, binding in bindings_of(type(widget), keymap):
            if (id(widget), key) in seen_keys:
                continue
            state = _check(widget, binding.action)
            if state is False:
                continue
            add(widget, binding, bool(state))

    result = []
    if app.ENABLE_COMMAND_PALETTE:
        result.append(
            KeyHelp(
                keys=app.COMMAND_PALETTE_BINDING.replace("ctrl+", "^"),
                description="Command palette: find any action by name",
                section=section_of(app),
                action="command_palette",
                node=app,
            )
        )
    for ident in order:
        keys, binding, node, enabled = entries[ident]
        result.append(
            KeyHelp(
                keys=" / ".join(keys),
                description=clean(binding.description),
                detail=clean(binding.tooltip),
                section=section_of(node),
                action=binding.action,
                node=node,
                enabled=enabled,
            )
        )

    # Group: the screen's widgets first, then the screen, then the app.
    def rank(k: KeyHelp) -> int:
        if k.node is app:
            return 2
        if isinstance(k.node, Screen):
            return 1
        return 0

    sections: dict[str, int] = {}
    for k in result:
        sections.setdefault(k.section, len(sections))
    return sorted(result, key=lambda k: (rank(k), sections[k.section]))


class HelpScreen(ModalScreen[None]):
    """Lists keys; escape, `?`, `q` or enter close it."""

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q,enter", "close", "Close help", id="help.close"),
    ]

    def __init__(self, keys: list[KeyHelp], title: str = "Keys") -> None:
        super().__init__()
        self.keys = keys
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.title_text), id="help-title")
            with VerticalScroll():
                yield Static(self._render_keys(), id="help-keys")
            yield Static(
                "escape closes · ctrl+p finds any action by name", id="help-hint", markup=False
            )

    def _extras(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The HELP_EXTRA blocks of the keys' owners, once each: (first, last). A block
        comes first when its owner is the widget the keys start with (the focus)."""
        first: list[tuple[str, str]] = []
        last: list[tuple[str, str]] = []
        seen: set[str] = set()
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 and stack[-1] is self else None
        focused = below.focused if below is not None else None
        around_focus = list(focused.ancestors_with_self) if focused is not None else []
        for k in self.keys:
            extra = getattr(k.node, "HELP_EXTRA", None)
            if not isinstance(extra, tuple) or len(extra) != 2 or extra[1] in seen:
                continue
            seen.add(extra[1])
            owns_focus = not isinstance(k.node, Screen) and k.node in around_focus
            (first if owns_focus else last).append(extra)
        return first, last

    @staticmethod
    def _append_block(text: Text, title: str, body: str) -> None:
        text.append_text(literal(title, style="bold underline"))
        text.append("\n")
        for line in body.splitlines():
            text.append_text(literal(line))
            text.append("\n")

    def _render_keys(self) -> Text:
        first, last = self._extras()
        text = Text()
        for title, body in first:
            self._append_block(text, title, body)
            text.append("\n")
        width = max((len(k.keys) for k in self.keys), default=4) + 2
        width = min(width, 24)
        section = None
        for k in self.keys:
            if k.section != section:
                if section is not None:
                    text.append("\n")
                text.append_text(literal(k.section, style="bold underline"))
                text.append("\n")
                section = k.section
            text.append_text(literal(k.keys.ljust(width), style="bold"))
            style = "" if k.enabled else "dim"
            text.append_text(literal(k.long_description, style=style))
            text.append("\n")
        for title, body in last:
            text.append("\n")
            self._append_block(text, title, body)
        text.rstrip()
        return text

    def action_close(self) -> None:
        self.dismiss(None)
