"""The screenshot tool (session_tui/tools/screenshots.py): CJK names get a font that
has them in the PNGs, and the picture's title is the one the app's header shows."""

from __future__ import annotations

import re

from session_tui.data.db import Database
from session_tui.tools.screenshots import CJK_FONTS, _grid_aligned, header_title, with_fonts
from tests.ui.contacts_helpers import Person, contacts_screen, make_test_app, seed, settle


def test_wide_characters_get_a_cjk_font_and_keep_their_cells() -> None:
    svg = (
        "<svg><style>.r1 { font-family: Fira Code, monospace; }</style>"
        '<text class="r1" x="10" y="20" textLength="42.7" clip-path="url(#c)">Li 王芳 x</text>'
        "</svg>"
    )
    out = _grid_aligned(svg)
    spans = re.findall(r'<tspan x="([^"]*)"( font-family="[^"]*")?>([^<]*)</tspan>', out)
    assert [(text, bool(font)) for _, font, text in spans] == [
        ("Li ", False),
        ("王芳", True),
        (" x", False),
    ]
    assert f'font-family="{CJK_FONTS}"' in out
    # rich's textLength: 7 characters x 6.1; on screen the wide ones take two cells each
    xs = [float(x) for xs, _, _ in spans for x in xs.split()]
    assert xs == [10.0, 16.1, 22.2, 28.3, 40.5, 52.7, 58.8]
    assert "Noto Sans Mono CJK SC" in out and "Fira Code" not in out
    assert "Fira Code, DejaVu Sans Mono" in with_fonts(svg)


async def test_title_is_the_headers(sqlite_db: Database) -> None:
    seed(sqlite_db, [Person("a@example.org", "李", "王芳")])
    app = make_test_app(sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, contacts_screen(app).table)
        app.sub_title = "demo.db"
        await pilot.pause()
        assert header_title(app) == "session-tui — demo.db"
        header = app.screen.query_one("HeaderTitle")
        assert str(header.render()).strip() == "session-tui — demo.db"
