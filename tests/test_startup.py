"""Start-up imports only what the work needs (issue #14, item 6): `--version` loads no
data layer, opening an up-to-date database loads no Alembic, a SQLite database loads
no psycopg, and the command line loads no Textual until the app opens. Also the
PostgreSQL statistics helper (`Database.analyze`).

The imports are checked in a fresh interpreter (a subprocess), where `sys.modules`
shows exactly what the code path loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from session_tui import SCHEMA_VERSION, __version__
from session_tui.cli import app_arguments, asks_version, build_parser
from session_tui.data.csvio import import_csv
from session_tui.data.db import ANALYZE_MIN_ROWS, Database, make_engine, open_database
from session_tui.data.deletion import delete_contacts, restore_backup
from session_tui.data.demo import generate_demo
from session_tui.data.migrate import HEAD_REVISION, current_revision, is_current, upgrade
from tests.helpers import add_contacts

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "psycopg", "textual", "email_validator")


def loaded_after(code: str) -> set[str]:
    """The HEAVY top-level packages imported by running `code` in a fresh interpreter."""
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_head_constant_is_the_real_head() -> None:
    from alembic.script import ScriptDirectory

    from session_tui.data.migrate import alembic_config

    memory = Database("sqlite://", make_engine("sqlite://"))
    script = ScriptDirectory.from_config(alembic_config(memory))
    assert script.get_heads() == [HEAD_REVISION]


def test_version_loads_no_library() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "session_tui", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (
        0,
        f"session-tui {__version__} (database schema {SCHEMA_VERSION})\n",
    )
    for argv in (["--version"], ["--db", "x.db", "--version"]):
        code = (
            f"from session_tui.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass"
        )
        assert loaded_after(code) == set()


def test_asks_version_only_for_the_top_level_option() -> None:
    assert asks_version(["--version"])
    assert asks_version(["--db", "team.db", "--json", "--version"])
    assert asks_version(["--db=team.db", "--version"])
    assert not asks_version([])
    assert not asks_version(["import", "--version"])
    assert not asks_version(["--db", "--version"])  # the value of --db, as argparse reads it


def test_asks_version_after_any_common_option() -> None:
    assert asks_version(["--config", "settings.toml", "--version"])
    assert asks_version(["--config=settings.toml", "--json", "--version"])
    assert not asks_version(["--db", "--json", "--version"])  # argparse refuses it
    assert not asks_version(["--db"])


def test_a_plain_start_is_read_as_the_full_parser_reads_it() -> None:
    for argv in (
        [],
        ["--db", "team.db"],
        ["--db=team.db", "--json"],
        ["--config", "my.toml", "--db", "a.db", "--db", "b.db"],
        ["--json", "--config=my.toml"],
    ):
        args = app_arguments(argv)
        assert args is not None, argv
        full = vars(build_parser().parse_args(argv))
        assert full.pop("command") is None
        assert vars(args) == full, argv


def test_anything_but_a_plain_start_takes_the_full_parser() -> None:
    for argv in (
        ["contacts", "list"],
        ["--help"],
        ["--version"],
        ["--db"],  # no value: the full parser says so
        ["--db", "--json"],
        ["--d", "team.db"],  # an abbreviation argparse accepts
        ["--db", "team.db", "check"],
        ["team.db"],
    ):
        assert app_arguments(argv) is None, argv


def test_opening_the_app_loads_no_command_module(tmp_path: Path) -> None:
    """`session-tui [--db URL]` reaches the app without the command parsers and the
    modules behind them (the app runs here as a stub that names what is loaded)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    code = (
        "import sys, session_tui.cli as cli\n"
        "def opened(args):\n"
        "    print('opened', args.db)\n"
        "    print(sorted(m for m in sys.modules if m.startswith('session_tui.cli.')))\n"
        "    return 0\n"
        "cli.open_app = opened\n"
        f"raise SystemExit(cli.main(['--db', {url!r}]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    opened, modules = proc.stdout.strip().splitlines()
    assert opened == f"opened {url}"
    assert modules == "['session_tui.cli.common']"


def test_command_line_loads_no_ui() -> None:
    loaded = loaded_after("from session_tui.cli import build_parser; build_parser()")
    assert "textual" not in loaded


def test_the_app_loads_neither_alembic_nor_psycopg_nor_the_email_validator() -> None:
    """Opening the app's modules loads no migration machinery, no PostgreSQL driver
    and no email validator (only for unusual addresses)."""
    loaded = loaded_after(
        "import session_tui.ui.app, session_tui.ui.screens.contacts, session_tui.cli as c\n"
        "c.build_parser()"
    )
    assert {"sqlalchemy", "textual"} <= loaded
    assert not loaded & {"email_validator", "alembic", "psycopg", "sqlmodel", "pydantic"}


def test_the_app_loads_what_its_first_screen_needs_only() -> None:
    """The other top screens, the flows behind the Contacts keys, their dialogs, the
    CSV, demo, delete and bulk code, the filter panel (`f`), the demo's progress bar
    (`D`), TextArea (on no screen at start) and, for SQLite, the
    PostgreSQL dialect load when first used, not at start."""
    code = (
        "import sys, session_tui.ui.app\n"
        "from session_tui.ui.screens import contacts\n"
        "print(sorted(m for m in sys.modules if m.startswith(('session_tui.ui.modals',"
        " 'session_tui.ui.screens.memberships', 'session_tui.ui.screens.products',"
        " 'session_tui.ui.screens.help', 'session_tui.data.csvio', 'session_tui.data.demo',"
        " 'session_tui.data.deletion', 'session_tui.data.bulk_common',"
        " 'session_tui.ui.widgets.filter_panel.panel', 'textual.widgets._progress_bar',"
        " 'textual.widgets._text_area', 'sqlalchemy.dialects.postgresql',"
        " 'sqlmodel', 'pydantic', 'sqlalchemy.orm'))))\n"
        "contacts.csv_flows.export_contacts\n"  # the first use loads the flow
        "print('session_tui.ui.modals.export_csv' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["[]", "True"]


def output_without_settings(code: str, tmp_path: Path, *args: str) -> str:
    """What `code` (run with `args`) prints in a fresh interpreter, with no settings
    file."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SESSION_TUI_CONFIG": str(tmp_path / "none.toml")},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def run_without_settings(code: str, tmp_path: Path) -> list[str]:
    """The words `code` prints in a fresh interpreter, with no settings file."""
    return output_without_settings(code, tmp_path).split()


def five_contacts(tmp_path: Path) -> str:
    """The URL of a new SQLite database holding five contacts."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db = open_database(url)
    try:
        add_contacts(db, [(f"p{i}@example.com", f"P{i}", "Q") for i in range(5)])
    finally:
        db.dispose()
    return url


def test_the_first_paint_builds_no_filter_panel_nor_progress_bar(tmp_path: Path) -> None:
    """Up to the first painted rows (the start-up benchmark's harness, the real start
    path), neither the filter panel nor the demo's progress bar is loaded; the
    PostgreSQL dialect neither, on SQLite; nor SQLModel, pydantic and SQLAlchemy's ORM
    (the code builds its SQL on the generated Core tables, data/tables.py)."""
    url = five_contacts(tmp_path)
    code = (
        "import sys\n"
        "from session_tui.bench import firstpaint\n"
        f"firstpaint.main(['app', {url!r}])\n"
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'session_tui.ui.widgets.filter_panel.panel', 'textual.widgets._progress_bar',"
        " 'textual.widgets._text_area', 'sqlalchemy.dialects.postgresql',"
        " 'sqlmodel', 'pydantic', 'sqlalchemy.orm'))))\n"
    )
    assert run_without_settings(code, tmp_path) == ["painted", "[]"]


FIRST_FRAME_PROBE = """
import asyncio, json, sys
from textual.css.stylesheet import Stylesheet
from textual.widgets._footer import FooterKey
from session_tui.bench import firstpaint
from session_tui.ui.widgets.footer import Footer

counts = {"reparse": 0, "recompose": 0, "restyles": 0}
reparse, recompose, update_nodes = Stylesheet.reparse, Footer.recompose, Stylesheet.update_nodes

def counted_reparse(self, *args, **kwargs):
    counts["reparse"] += 1
    return reparse(self, *args, **kwargs)

async def counted_recompose(self):
    counts["recompose"] += 1
    await recompose(self)

def counted_update_nodes(self, nodes, *args, **kwargs):
    nodes = list(nodes)
    counts["restyles"] += len(nodes) > 10  # the whole screen, not a widget or two
    return update_nodes(self, nodes, *args, **kwargs)

Stylesheet.reparse, Footer.recompose = counted_reparse, counted_recompose
Stylesheet.update_nodes = counted_update_nodes
app, ready = firstpaint._app(sys.argv[1])
size = (int(sys.argv[2]), int(sys.argv[3]))

async def main():
    seen = asyncio.Event()
    display = app._display

    def first_frame_with_rows(screen, renderable):
        display(screen, renderable)
        if not seen.is_set() and not app._batch_count and ready():
            seen.set()
            keys = [f"{k.key_display} {k.description}" for k in screen.query(FooterKey)]
            classes = sorted(c for c in screen.classes if c in ("-short", "-tall"))
            print(json.dumps({**counts, "keys": keys, "classes": classes}))

    app._display = first_frame_with_rows
    async with app.run_test(size=size):
        await asyncio.wait_for(seen.wait(), 60)

asyncio.run(main())
"""


def first_frame(url: str, size: tuple[int, int], tmp_path: Path) -> dict[str, object]:
    """What the first frame with rows of a start shows and cost (see FIRST_FRAME_PROBE)."""
    out = output_without_settings(FIRST_FRAME_PROBE, tmp_path, url, *map(str, size))
    frame: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return frame


def test_the_first_frame_with_rows_has_its_footer_and_breakpoint_built_once(
    tmp_path: Path,
) -> None:
    """The first frame that shows the contacts already shows the footer's keys, built
    once, and the screen's breakpoint class; on the way, no stylesheet was parsed a
    second time and the whole screen was never restyled after its widgets were styled
    as they mounted (a second parse, a restyle at the first resize for the breakpoint
    class and one when the screen is first shown cost ~4.5 % of a start:
    docs/performance.md, "First paint ..." fourth and fifth rounds)."""
    url = five_contacts(tmp_path)
    tall = first_frame(url, (120, 40), tmp_path)
    assert (tall["reparse"], tall["restyles"], tall["recompose"]) == (0, 0, 1)
    assert tall["classes"] == ["-tall"]
    assert tall["keys"][:2] == ["space Select", "⏎ Open"] and "? Help" in tall["keys"]
    short = first_frame(url, (80, 24), tmp_path)
    assert (short["reparse"], short["restyles"], short["recompose"]) == (0, 0, 1)
    assert short["classes"] == ["-short"]


async def test_the_start_screen_is_styled_once_as_a_restyle_would_style_it(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start screen is made with the stylesheet marked current (`_ready_to_show`),
    so Textual's restyle of the app when the mode starts, which also styled the App
    node itself, does not run: the App is styled when the screen is made instead.
    Otherwise a widget drawn before Textual styles the App (after the App's compose,
    which waits for the screen's mount) inherits no text colour and keeps it (Textual
    caches a widget's style until its own styles change): the empty state's text was
    drawn in the background's colour whenever an empty database's count came early.
    Nor is the screen restyled when first shown (`TopScreen`): once shown, a restyle
    would change no widget's rules, and every widget is drawn with the style it would
    compute afresh."""
    from session_tui.ui.app import make_app
    from session_tui.ui.screens.contacts import ContactsScreen

    app_styles: list[tuple[bool, object]] = []  # the App's colour when the screen composes
    compose = ContactsScreen.compose

    def compose_and_look(screen: ContactsScreen) -> Any:
        app_styles.append((screen.app.styles.has_rule("color"), screen.app.styles.color))
        return compose(screen)

    monkeypatch.setattr(ContactsScreen, "compose", compose_and_look)
    app = make_app(db=sqlite_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        while screen.table.total is None:
            await pilot.pause(0.01)
        await pilot.pause()
        assert app_styles == [(True, app.styles.color)]
        empty_text = screen.query_one("#empty-text")
        assert empty_text.display and empty_text.visual_style.foreground == app.styles.color
        nodes = list(screen.walk_children(with_self=True))
        for widget in nodes:  # no style kept from before
            drawn_with = widget.visual_style
            widget._visual_style = None
            assert widget.visual_style == drawn_with, widget
        rules = [dict(node.styles.base._rules) for node in nodes]
        app.stylesheet.update_nodes(nodes)  # the restyle that was skipped
        assert [dict(node.styles.base._rules) for node in nodes] == rules


def test_the_app_start_freezes_what_it_made_and_collects_again(tmp_path: Path) -> None:
    """`prepare_app` pauses the garbage collector while the start imports and builds,
    then freezes those objects; collection resumes once the app has painted its first
    rows (here through the start-up benchmark's harness) -- and at once when the start
    fails."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db = open_database(url)
    try:
        add_contacts(db, [("p@example.com", "P", "Q")])
    finally:
        db.dispose()
    code = (
        "import argparse, gc\n"
        "from session_tui.cli import CliError, prepare_app\n"
        "from session_tui.bench import firstpaint\n"
        "gc.collect()\n"
        "before = gc.get_freeze_count()\n"
        f"app, db = prepare_app(argparse.Namespace(db={str(tmp_path / 'app.db')!r}))\n"
        "print(gc.isenabled(), gc.get_freeze_count() > before, type(app).__name__)\n"
        "db.dispose()\n"
        "try:\n"
        f"    prepare_app(argparse.Namespace(db={str(tmp_path)!r}))\n"  # a directory
        "except CliError as exc:\n"
        "    print(gc.isenabled(), 'not a database file' in str(exc))\n"
        "import session_tui.ui.app as ui_app\n"
        "resumed = ui_app.SessionApp._resume_collection\n"
        "def resume(self):\n"
        "    print('resumed' if self._collection_paused and not gc.isenabled() else '')\n"
        "    resumed(self)\n"
        "ui_app.SessionApp._resume_collection = resume\n"
        "gc.disable()\n"
        f"firstpaint.main(['app', {url!r}])\n"
        "print(gc.isenabled())\n"
    )
    words = run_without_settings(code, tmp_path)
    assert words[:5] == ["False", "True", "SessionApp", "True", "True"]
    assert sorted(words[5:-1]) == ["painted", "resumed"] and words[-1] == "True"


def test_opening_a_current_sqlite_database_loads_no_alembic_nor_psycopg(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    code = f"from session_tui.data.db import open_database; open_database({url!r}).dispose()"
    assert "alembic" in loaded_after(code)  # a new file: the migrations run
    loaded = loaded_after(code)  # now current
    assert "alembic" not in loaded and "psycopg" not in loaded
    assert "sqlalchemy" in loaded  # (the probe itself works)


def test_an_older_database_is_still_upgraded(db_url: str) -> None:
    db = Database(db_url, make_engine(db_url))
    try:
        upgrade(db, "0001")
        assert not is_current(db)
    finally:
        db.dispose()
    again = open_database(db_url)
    try:
        assert current_revision(again) == HEAD_REVISION and is_current(again)
    finally:
        again.dispose()


def reltuples(db: Database) -> dict[str, float]:
    """The planner's row estimates: -1 until a table is first vacuumed or analysed."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' "
                "AND relname IN ('contact', 'membership', 'membership_event')"
            )
        ).all()
    return {name: float(n) for name, n in rows}


def test_analyze_runs_on_postgresql_after_large_changes_only(db_url: str) -> None:
    db = open_database(db_url)
    try:
        generate_demo(db, 20, seed=3)
        assert db.analyze(ANALYZE_MIN_ROWS - 1) is False  # a small change: left alone
        if db.is_sqlite:
            assert db.analyze(ANALYZE_MIN_ROWS) is False  # nothing to do on SQLite
            return
        assert reltuples(db)["contact"] == -1  # 20 < ANALYZE_MIN_ROWS: not analysed
        # Unknown names are never put into SQL (only the known tables are analysed).
        assert db.analyze(ANALYZE_MIN_ROWS, ["contact", "x; DROP TABLE contact"]) is True
        assert reltuples(db)["contact"] == 20
    finally:
        db.dispose()


def test_bulk_operations_leave_postgresql_statistics_fresh(pg_url: str, tmp_path: Path) -> None:
    n = ANALYZE_MIN_ROWS + 200
    db = open_database(pg_url)
    try:
        csv_path = tmp_path / "people.csv"
        csv_path.write_text(
            "email,first_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(n))
        )
        import_csv(db, csv_path)
        assert reltuples(db)["contact"] == n  # import: analysed
        generate_demo(db, n, seed=5)
        stats = reltuples(db)
        assert stats["contact"] == 2 * n and stats["membership"] > 0  # demo: analysed
        with db.engine.connect() as conn:
            ids = list(conn.execute(text("SELECT id FROM contact ORDER BY id LIMIT :n"), {"n": n}))
        result = delete_contacts(db, [i for (i,) in ids], backups_dir=tmp_path / "backups")
        assert reltuples(db)["contact"] == n  # bulk delete: analysed
        restore_backup(db, result.backup_path)
        assert reltuples(db)["contact"] == 2 * n  # restore: analysed
    finally:
        db.dispose()


async def test_the_start_reads_the_first_page_while_textual_starts(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start (`cli.prepare_app`) begins the Contacts table's first read in a thread
    before Textual runs (`start_first_read`); the table's first load shows that read's
    rows without reading them again, and the count follows, read once those rows are
    painted. A first read that failed, or one of another query, is not used: the table
    reads for itself."""
    import argparse
    from concurrent.futures import Future

    from session_tui.cli import _make_app
    from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
    from session_tui.ui.screens.contacts import ContactsScreen

    db = open_database(db_url)
    try:
        add_contacts(db, [(f"p{i:03}@example.com", f"P{i:03}", "Q") for i in range(150)])
    finally:
        db.dispose()
    monkeypatch.setenv("SESSION_TUI_CONFIG", str(tmp_path / "none.toml"))
    reads: list[ContactQuery] = []
    count_and_page, count = ContactsRepository.count_and_page, ContactsRepository.count
    counted_after_paint: list[bool] = []
    started: list[Any] = []  # the app being run

    def counted(self: ContactsRepository, query: ContactQuery, *args: Any) -> Any:
        reads.append(query)
        return count_and_page(self, query, *args)

    def counted_once_painted(self: ContactsRepository, query: ContactQuery) -> int:
        counted_after_paint.append(started[-1].screen.table._first_rows_painted.is_set())
        return count(self, query)

    async def shown(app: Any) -> list[Any]:
        started.append(app)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, ContactsScreen)
            while screen.table.total is None or screen.table.is_loading:
                await pilot.pause(0.01)
            assert (screen.table.count, screen.table.total) == (150, 150)
            return [screen.table.row_at(i) for i in range(100)]

    failed: Future[Any] = Future()
    failed.set_exception(RuntimeError("the first read failed"))
    for first in ("started", "failed", "another query"):
        app, db = _make_app(argparse.Namespace(db=db_url))
        try:
            assert app.first_read is not None
            query, future = app.first_read
            assert query == ContactQuery()
            counted_rows, first_rows = future.result(timeout=60)
            assert counted_rows is None and len(first_rows) == 100
            if first == "failed":
                app.first_read = (query, failed)
            elif first == "another query":
                app.first_read = (ContactQuery(search="p1"), future)
            reads.clear()
            counted_after_paint.clear()
            monkeypatch.setattr(ContactsRepository, "count_and_page", counted)
            monkeypatch.setattr(ContactsRepository, "count", counted_once_painted)
            rows = await shown(app)
            monkeypatch.setattr(ContactsRepository, "count_and_page", count_and_page)
            monkeypatch.setattr(ContactsRepository, "count", count)
        finally:
            db.dispose()
        assert app.first_read is None  # handed over once, or dropped
        assert [row.email for row in rows] == [f"p{i:03}@example.com" for i in range(100)]
        if first != "another query":  # a first read of the start: counted once painted
            assert counted_after_paint == [True], first
        if first == "started":
            assert reads == [] and rows == first_rows
        else:
            assert reads == [ContactQuery()]
