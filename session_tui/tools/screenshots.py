"""Regenerate the screenshots in `screenshots/`: `python -m session_tui.tools.screenshots`.

Builds a demo database in a temporary directory (fixed seed), drives the app
headless (`App.run_test`) and writes an SVG and a PNG (cairosvg) of each shot.

Adding a screen is a line or a few: the keys that bring the app there, or an async
function that takes the Pilot and does it, in a `Shot` of `SHOTS`:

    SHOTS.append(Shot("memberships", "Memberships", keys("m", "down down down")))

Options: `--only NAME` (repeatable), `--out DIR`, `--contacts N`, `--no-png`.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.cells import cell_len
from textual.pilot import Pilot

from session_tui.data.db import open_database
from session_tui.ui.app import SessionApp, make_app

SIZE = (120, 40)
# Fonts of the PNGs: Latin from DejaVu / Noto Sans Mono; names in Chinese, Japanese or
# Korean from Noto Sans Mono CJK (Debian: fonts-noto-cjk) or WenQuanYi Zen Hei
# (fonts-wqy-zenhei). Without one of them, those names are drawn as empty boxes.
CJK_FONTS = "Noto Sans Mono CJK SC, Noto Sans CJK SC, WenQuanYi Zen Hei Mono, WenQuanYi Zen Hei"
PNG_FONTS = f"DejaVu Sans Mono, Noto Sans Mono, {CJK_FONTS}, monospace"
# Fixed "now" for the demo data, so the screenshots only change when the UI does.
DEMO_NOW = datetime(2026, 5, 1, 9, 0, 0)
DEMO_SEED = 7

Step = Callable[[Pilot[None]], Awaitable[None]]


@dataclass(frozen=True)
class Shot:
    name: str  # file name without extension
    title: str  # what the shot shows (the image's title is the app's header: header_title)
    steps: Step


async def settle(pilot: Pilot[None], timeout: float = 10.0) -> None:
    """Wait until the workers are done and the screen has caught up.

    A flow is a worker that awaits the dialog or screen it opened, so it still runs
    when the shot is due: each wait is bounded (2 s, far above a page load of the
    demo data), and what still runs after it is such a flow."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause(0.05)
    running = {w for w in app.workers if w.is_running}
    changed = time.monotonic()
    while running and time.monotonic() < deadline and time.monotonic() - changed < 2.0:
        await pilot.pause(0.05)
        now_running = {w for w in app.workers if w.is_running}
        if now_running != running:
            running, changed = now_running, time.monotonic()
    await pilot.pause(0.1)


# -- the shots ---------------------------------------------------------------------------
# Memberships, products, contact detail: the app's clock is frozen at
# DEMO_NOW (screens read `app.clock`), so statuses and "in 5 days" stay put.
def _freeze(pilot: Pilot[None]) -> None:
    pilot.app.clock = lambda: DEMO_NOW  # type: ignore[attr-defined]


def keys(*presses: str, freeze: bool = True) -> Step:
    """Steps that press each of `presses` (keys separated by spaces) in turn, the app
    settled before the first and after each; with the clock frozen unless `freeze`
    is False."""

    async def steps(pilot: Pilot[None]) -> None:
        if freeze:
            _freeze(pilot)
        await settle(pilot)
        for group in presses:
            await pilot.press(*group.split())
            await settle(pilot)

    return steps


async def contacts_search(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("slash", *"mar")
    await pilot.pause(0.3)
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)


contacts = keys("down down space space down", freeze=False)
help_modal = keys("question_mark", freeze=False)
memberships = keys("m", "down down down")
products = keys("p")
contact_detail = keys("down down down enter")
add_membership = keys("m", "a", "tab enter down down enter")


# Filters: the filter builder with a group, from its text form.
async def filter_panel(pilot: Pilot[None]) -> None:
    from textual.widgets import Input

    await keys("f")(pilot)
    focused = pilot.app.focused
    if isinstance(focused, Input):  # f puts the focus in the panel's text box
        focused.insert_text_at_cursor(
            'product:"1:1 Coaching" and (status:active or payment:comped) domain:gmail.com'
        )
    await pilot.press("enter")
    await pilot.pause(0.3)
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)


# Import: a Mailchimp-style file with new people, two the demo database
# already has, a repeated row and invalid ones. Fixed path, so the shot is stable.
def _import_file(pilot: Pilot[None]) -> str:
    import csv

    from sqlalchemy import select

    from session_tui.data.tables import contact_t

    c = contact_t.c
    with pilot.app.db.engine.connect() as conn:  # type: ignore[attr-defined]
        known = conn.execute(
            select(c.email, c.first_name, c.last_name).order_by(c.id).limit(2)
        ).all()
    people = [
        ("amara.okafor@example.com", "Amara", "Okafor"),
        ("ben.li@example.org", "Ben", "Li"),
        ("chloe.martin@example.fr", "Chloé", "Martin"),
        (known[0][0], known[0][1], known[0][2]),
        ("dev.patel@example.in", "Dev", "Patel"),
        ("ben.li@example.org", "Benjamin", "Li"),
        ("maria@", "María", "Gómez"),
        ("eva.novak@example.cz", "Eva", "Novák"),
        (known[1][0].upper(), known[1][1], known[1][2]),
        ("", "No", "Email"),
        ("farid.haddad@example.com", "Farid", "Haddad"),
        ("grace.kim@example.com", "Grace", "Kim"),
        ('=HYPERLINK("x")@evil', "Mallory", "[bold]Mallory"),
        ("hugo.silva@example.br", "Hugo", "Silva"),
        ("ines.costa@example.pt", "Inês", "Costa"),
    ]
    directory = Path(tempfile.gettempdir()) / "session-tui-shots-import"
    directory.mkdir(exist_ok=True)
    path = directory / "mailchimp-export.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(["Email Address", "First Name", "Last Name", "Phone Number", "TAGS"])
        for i, (email, first, last) in enumerate(people):
            writer.writerow([email, first, last, f"+1 555 01{i:02d}", "newsletter"])
    return str(path)


async def import_preview(pilot: Pilot[None]) -> None:
    from session_tui.ui.modals.import_csv import ImportCsvModal
    from session_tui.ui.widgets.path_input import PathInput

    await keys("i")(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, ImportCsvModal)
    modal.query_one("#import-path", PathInput).value = _import_file(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def import_summary(pilot: Pilot[None]) -> None:
    await import_preview(pilot)
    await pilot.press("y")
    await settle(pilot)


# Delete and edit: the dialogs only -- nothing is deleted or saved.
delete_confirm = keys("down space space space d")


async def edit_contact(pilot: Pilot[None]) -> None:
    from textual.widgets import Input

    await keys("down down e")(pilot)
    pilot.app.screen.query_one("#edit-email", Input).value = "not-an-email"
    await pilot.press("ctrl+s")
    await settle(pilot)


# The actions menu (A) on a selection, and a bulk grant's confirmation: nothing is
# written (the confirmation is the last step).
actions_menu = keys("down space space space A")


async def _until(pilot: Pilot[None], ready: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for `ready()` (the flows' workers run while their dialogs are open, so
    `settle` would wait for them forever)."""
    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def bulk_confirm(pilot: Pilot[None]) -> None:
    from textual.widgets import RadioButton, Select

    from session_tui.ui.modals.bulk_dialogs import BulkActionDialog
    from session_tui.ui.modals.confirm import ConfirmModal

    await actions_menu(pilot)
    await pilot.press("g")
    app = pilot.app
    await _until(pilot, lambda: isinstance(app.screen, BulkActionDialog))
    dialog = app.screen
    assert isinstance(dialog, BulkActionDialog)
    select = dialog.query_one("#product", Select)
    await _until(pilot, lambda: select.prompt == "Choose a product")
    options = [value for _, value in select._options if isinstance(value, int)]
    select.value = options[0]
    dialog.query_one("#payment-comped", RadioButton).value = True
    await pilot.press("ctrl+s")
    await _until(pilot, lambda: isinstance(app.screen, ConfirmModal))


SHOTS: list[Shot] = [
    Shot("contacts", "Contacts", contacts),
    Shot("contacts-search", "Contacts: search as you type", contacts_search),
    Shot("help", "Help (?)", help_modal),
    Shot("memberships", "Memberships (m)", memberships),
    Shot("products", "Products (p)", products),
    Shot("contact-detail", "Contact detail (enter)", contact_detail),
    Shot("add-membership", "Add membership (a)", add_membership),
    Shot("filter", "Filter builder (f)", filter_panel),
    Shot("delete-confirm", "Delete: confirmation (d)", delete_confirm),
    Shot("edit-contact", "Edit contact (e)", edit_contact),
    Shot("actions-menu", "Actions menu (A)", actions_menu),
    Shot("bulk-confirm", "Actions menu: a bulk grant's confirmation", bulk_confirm),
    # last: the summary shot imports into the shared demo database
    Shot("import-preview", "Import: preview (i)", import_preview),
    Shot("import-summary", "Import: summary", import_summary),
]


# -- SVG -> PNG ----------------------------------------------------------------------------
_TEXT = re.compile(
    r'<text (?P<pre>[^>]*?)x="(?P<x>[\d.]+)"(?P<mid>[^>]*?)textLength="(?P<len>[\d.]+)"'
    r"(?P<post>[^>]*)>(?P<body>[^<]*)</text>"
)


def _grid_aligned(svg: str) -> str:
    """Give every character of each text run its own x position.

    Textual's SVG relies on `textLength` to keep characters on the terminal grid;
    cairosvg ignores it, so runs drift. Per-character x positions fix that
    (wide characters take two cells).
    """

    def fix(m: re.Match[str]) -> str:
        body = html.unescape(m.group("body"))
        cells = cell_len(body)
        if not body or cells == 0:
            return m.group(0)
        # rich sets textLength to char_width * len(text) -- characters, not cells
        step = float(m.group("len")) / len(body)
        x = float(m.group("x"))
        xs = []
        for ch in body:
            xs.append(f"{x:.1f}")
            x += step * cell_len(ch)
        head = f"<text {m.group('pre')}"
        tail = f"{m.group('mid')}{m.group('post')}>"
        if not any(_needs_fallback(ch) for ch in body):
            return f'{head}x="{" ".join(xs)}"{tail}{html.escape(body, quote=False)}</text>'
        # Wide (CJK) characters and a few others DejaVu Sans Mono lacks: cairo draws a
        # run with ONE font (no per-glyph fallback), so they get a run -- a tspan -- in
        # a font that has them.
        spans = []
        for wide, run in _runs(body, xs):
            chars = "".join(ch for ch, _ in run)
            font = f' font-family="{CJK_FONTS}"' if wide else ""
            spans.append(
                f'<tspan x="{" ".join(x for _, x in run)}"{font}>'
                f"{html.escape(chars, quote=False)}</tspan>"
            )
        return f'{head}x="{xs[0]}"{tail}{"".join(spans)}</text>'

    svg = _TEXT.sub(fix, svg)
    # Textual embeds Fira Code from a CDN; use local monospace fonts instead.
    return svg.replace("Fira Code, monospace", PNG_FONTS)


def _needs_fallback(ch: str) -> bool:
    """CJK (wide) characters, Vietnamese letters (Latin Extended Additional, e.g. "ễ")
    and the header's icon: not in DejaVu Sans Mono, drawn with the CJK font."""
    return cell_len(ch) >= 2 or 0x1E00 <= ord(ch) <= 0x1EFF or 0x2B00 <= ord(ch) <= 0x2BFF


def _runs(body: str, xs: list[str]) -> list[tuple[bool, list[tuple[str, str]]]]:
    """`body`'s characters with their x positions, in runs that need the fallback font
    or not."""
    runs: list[tuple[bool, list[tuple[str, str]]]] = []
    for ch, x in zip(body, xs, strict=True):
        wide = _needs_fallback(ch)
        if runs and runs[-1][0] == wide:
            runs[-1][1].append((ch, x))
        else:
            runs.append((wide, [(ch, x)]))
    return runs


def with_fonts(svg: str) -> str:
    """The SVG as written to screenshots/: Fira Code (Textual's font, from a CDN) first,
    then local fonts, CJK ones included, for viewers that fall back per glyph."""
    return svg.replace("Fira Code, monospace", f"Fira Code, {PNG_FONTS}")


def svg_to_png(svg: str, path: Path) -> bool:
    try:
        import cairosvg
    except ImportError:
        print(
            "cairosvg is not installed: PNGs skipped (pip install '.[screenshots]')",
            file=sys.stderr,
        )
        return False
    cairosvg.svg2png(bytestring=_grid_aligned(svg).encode("utf-8"), write_to=str(path))
    return True


# -- driver --------------------------------------------------------------------------------
async def take(app: SessionApp, shot: Shot) -> str:
    async with app.run_test(size=SIZE) as pilot:
        app.sub_title = "demo.db"
        await shot.steps(pilot)
        return app.export_screenshot(title=header_title(app))


def header_title(app: SessionApp) -> str:
    """The title the app's header shows ("session-tui — demo.db", "Contact — …"), which
    is the screenshot's window title too: the picture says what the app says."""
    from textual.screen import ModalScreen

    screen = next(
        (s for s in reversed(app.screen_stack) if not isinstance(s, ModalScreen)), app.screen
    )
    title = screen.title or app.title
    sub_title = screen.sub_title or app.sub_title
    return f"{title} — {sub_title}" if sub_title else title


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--no-png", action="store_true")
    args = parser.parse_args(argv)

    from session_tui.data.demo import generate_demo

    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="session-tui-shots-") as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            generate_demo(db, args.contacts, seed=DEMO_SEED, now=DEMO_NOW)
            for shot in shots:
                svg = asyncio.run(take(make_app(db=db), shot))
                svg_path = args.out / f"{shot.name}.svg"
                svg_path.write_text(with_fonts(svg), encoding="utf-8")
                written = [svg_path]
                if not args.no_png:
                    png_path = args.out / f"{shot.name}.png"
                    if svg_to_png(svg, png_path):
                        written.append(png_path)
                print("wrote", ", ".join(str(p) for p in written))
        finally:
            db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
