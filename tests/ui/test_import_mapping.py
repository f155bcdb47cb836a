"""The import dialog's column mapping and memberships, driven with Pilot.

A file whose header names no email column gets a mapping step (one line per
column, a list of fields each); `p` previews with the mapping, which is
remembered for the next file with the same header set. Files that hold
memberships show the importer's headline, the products to create, and the two
choices. Every test asserts on the database, the remembered-mappings file or
what the dialog shows. The data directory is the test's own (tests/conftest.py).

The membership tests (`products to create`, `update memberships`) need the
importer that reads memberships: they run against the real `import_csv`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Label, Select, Static

from session_tui.data.csvio.mapping import recall
from session_tui.data.db import Database
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t, membership_t, product_t
from session_tui.locations import column_mappings_path
from session_tui.ui.modals.import_csv import ImportCsvModal
from session_tui.ui.modals.import_csv.mapping_editor import select_id
from session_tui.ui.widgets.path_input import PathInput
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    make_test_app,
    seed,
    settle,
    wait_until,
)

SIZE = (100, 34)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "csv"


def text_of(modal: Any, selector: str) -> str:
    return str(modal.query_one(selector, Static).render())


def people(db: Database) -> dict[str, tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(contact_t.c.email, contact_t.c.first_name, contact_t.c.last_name)
        )
        return {email: (first, last) for email, first, last in rows}


def memberships(db: Database) -> set[tuple[str, str]]:
    """(email, product) of every membership."""
    query = (
        select(contact_t.c.email, product_t.c.name)
        .join(membership_t, membership_t.c.contact_id == contact_t.c.id)
        .join(product_t, product_t.c.id == membership_t.c.product_id)
    )
    with db.engine.connect() as conn:
        return {(email, name) for email, name in conn.execute(query)}


def products(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(select(product_t.c.name)).scalars())


async def open_file(pilot: Pilot[Any], path: str) -> ImportCsvModal:
    """`i`, type `path`, enter: the dialog once it shows the mapping step or a preview."""
    app = pilot.app
    await settle(pilot, contacts_screen(app).table)  # type: ignore[arg-type]
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, ImportCsvModal))
    modal = app.screen
    assert isinstance(modal, ImportCsvModal)
    modal.query_one("#import-path", PathInput).value = path
    await pilot.press("enter")
    await wait_until(pilot, lambda: modal.stage in ("mapping", "preview") and not modal._busy)
    await pilot.pause()
    return modal


async def previewed(pilot: Pilot[Any], modal: ImportCsvModal) -> None:
    await wait_until(pilot, lambda: modal.stage == "preview" and not modal._busy)
    await pilot.pause()


def field_of(modal: ImportCsvModal, column: int) -> object:
    return modal.query_one(f"#{select_id(column)}", Select).value


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("spanish.csv", "ghost-import-tier.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_remembered_mappings_live_in_the_tests_own_data_dir(tmp_path: Path) -> None:
    assert column_mappings_path().is_relative_to(tmp_path)


async def test_the_spanish_file_imports_after_mapping_from_the_keyboard(
    sqlite_db: Database, in_tmp: Path
) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_file(pilot, "spanish.csv")
        assert modal.stage == "mapping"
        assert "No column of spanish.csv is named email" in text_of(modal, "#import-message")
        # the email is proposed from the values; the other columns start ignored
        assert [field_of(modal, i) for i in range(3)] == ["email", "ignore", "ignore"]
        values = [str(s.render()) for s in modal.query(".mapping-values").results(Static)]
        assert "maria.lopez@example.es · jose@example.es" in values[1]
        assert people(sqlite_db) == {}  # nothing written

        # nombre -> full name: tab to its list, open it, up from "ignore" to "full name"
        assert modal.focused is modal.query_one(f"#{select_id(0)}")
        await pilot.press("tab")
        assert modal.focused is modal.query_one(f"#{select_id(1)}")
        await pilot.press("enter")
        await pilot.press(*["up"] * 7)
        await pilot.press("enter")
        await pilot.pause()
        assert field_of(modal, 1) == "full_name"

        await pilot.press("p")
        await previewed(pilot, modal)
        assert "New 3" in text_of(modal, "#import-counts")
        fmt = text_of(modal, "#import-format")
        assert 'email = "correo_electronico"' in fmt and '= "nombre"' in fmt
        assert 'Ignored "note"' in fmt
        message = text_of(modal, "#import-message")
        assert "Your mapping is kept for files with these columns · m to change" in message
        assert people(sqlite_db) == {}  # the preview wrote nothing

        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportCsvModal))
        await wait_until(
            pilot, lambda: any("Added 3" in str(n.message) for n in app._notifications)
        )
    assert people(sqlite_db) == {
        "maria.lopez@example.es": ("María", "López"),
        "jose@example.es": ("José", ""),
        "carmen@example.es": ("Carmen", "de la Cruz"),
    }
    remembered = recall(("correo_electronico", "nombre", "note"))
    assert remembered is not None
    assert remembered.fields == ("email", "full_name", None)


async def test_the_remembered_mapping_is_used_next_time(sqlite_db: Database, in_tmp: Path) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_file(pilot, "spanish.csv")
        modal.query_one(f"#{select_id(1)}", Select).value = "first_name"
        await pilot.press("p")
        await previewed(pilot, modal)
        await pilot.press("escape")  # nothing imported: the mapping is kept all the same
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportCsvModal))

        # the same columns in another order, in another file: straight to the preview
        (in_tmp / "otra.csv").write_text(
            "nombre,note,correo_electronico\nLuz,,luz@example.es\n", encoding="utf-8"
        )
        modal = await open_file(pilot, "otra.csv")
        assert modal.stage == "preview"
        message = text_of(modal, "#import-message")
        assert message.startswith("Using your mapping from last time · m to change.")
        assert 'first name = "nombre"' in text_of(modal, "#import-format")

        # m: the mapping step again, with the columns as they are mapped now
        await pilot.press("m")
        await wait_until(pilot, lambda: modal.stage == "mapping" and not modal._busy)
        assert [field_of(modal, i) for i in range(3)] == ["first_name", "ignore", "email"]
        await pilot.press("escape")  # back to the preview, nothing changed
        await previewed(pilot, modal)
        assert app.screen is modal
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
    assert people(sqlite_db) == {"luz@example.es": ("Luz", "")}


async def test_two_columns_mapped_to_email_are_refused(sqlite_db: Database, in_tmp: Path) -> None:
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_file(pilot, "spanish.csv")
        modal.query_one(f"#{select_id(2)}", Select).value = "email"
        await pilot.pause()
        problem = text_of(modal, "#import-mapping-problem")
        assert "'correo_electronico' and 'note' are both mapped to email" in problem
        await pilot.press("p")
        await pilot.pause()
        assert modal.stage == "mapping"
        message = text_of(modal, "#import-message")
        assert message.startswith("Not used: 'correo_electronico' and 'note' are both mapped")
        assert "map only one column to it" in message
        assert not column_mappings_path().exists()  # a refused mapping is not kept
        # set the note back to ignore: the mapping is accepted
        modal.query_one(f"#{select_id(2)}", Select).value = "ignore"
        await pilot.pause()
        assert not modal.query_one("#import-mapping-problem").display
        await pilot.press("p")
        await previewed(pilot, modal)
        assert "New 3" in text_of(modal, "#import-counts")
    assert people(sqlite_db) == {}
    assert recall(("correo_electronico", "nombre", "note")) is not None  # the one accepted


async def test_headers_and_values_from_the_file_are_shown_literally(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        '"[b]correo[/b]\x1b[31m",nombre\nana@example.com,"[red]Ana[/red]\x1b[2J"\n',
        encoding="utf-8",
    )
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_file(pilot, str(path))
        assert modal.stage == "mapping"
        headers = [str(h.render()) for h in modal.query(".mapping-header").results(Label)]
        assert headers[0] == "[b]correo[/b][31m" and "\x1b" not in headers[0]
        values = [str(s.render()) for s in modal.query(".mapping-values").results(Static)]
        assert values[2] == "[red]Ana[/red][2J"


async def test_m_maps_a_file_whose_header_is_recognised(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("email,first_name,comment\nbo@example.com,Bo,Hi\n", encoding="utf-8")
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_file(pilot, str(path))
        assert modal.stage == "preview"
        await pilot.press("m")
        await wait_until(pilot, lambda: modal.stage == "mapping" and not modal._busy)
        assert "Say which column of plain.csv holds what" in text_of(modal, "#import-message")
        modal.query_one(f"#{select_id(1)}", Select).value = "ignore"
        modal.query_one(f"#{select_id(2)}", Select).value = "last_name"
        modal.query_one("#import-apply-mapping", Button).press()  # the button does as `p`
        await previewed(pilot, modal)
        assert 'last name = "comment"' in text_of(modal, "#import-format")
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
    assert people(sqlite_db) == {"bo@example.com": ("", "Hi")}


# -- memberships (the importer that reads them) -------------------------------------


async def test_ghost_tiers_show_products_to_create_and_the_choice_works(
    sqlite_db: Database, in_tmp: Path
) -> None:
    ProductsRepository(sqlite_db).add("Coaching Circle")
    (in_tmp / "tiers.csv").write_text(
        "email,gift_id,import_tier\n"
        "ana.gomez@example.com,gift_001,Coaching Circle\n"
        "li.wei@example.org,gift_002,\n"
        "sam@example.net,gift_003,[bold]Inner[/bold] Circle\n",
        encoding="utf-8",
    )
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        modal = await open_file(pilot, "tiers.csv")
        assert modal.stage == "preview"
        new_products = text_of(modal, "#import-new-products")
        assert '"[bold]Inner[/bold] Circle"' in new_products  # shown literally
        create = modal.query_one("#import-create-products", Checkbox)
        assert create.display and not create.value  # not created unless asked
        assert "membership skipped" in str(create.label)
        assert "1 product to create" in text_of(modal, "#import-memberships-line")

        create.focus()
        await pilot.press("space")  # create it: the preview runs again with the choice
        await wait_until(pilot, lambda: modal._options.create_products and not modal._busy)
        assert "2 memberships granted" in text_of(modal, "#import-memberships-line")
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
        assert "2 memberships granted" in text_of(modal, "#import-summary-counts")
        await pilot.press("escape")
        await wait_until(
            pilot,
            lambda: any(
                "2 memberships granted · 1 product created" in str(n.message)
                for n in app._notifications
            ),
        )
    assert products(sqlite_db) == {"Coaching Circle", "[bold]Inner[/bold] Circle"}
    assert memberships(sqlite_db) == {
        ("ana.gomez@example.com", "Coaching Circle"),
        ("sam@example.net", "[bold]Inner[/bold] Circle"),
    }


async def test_ghost_tiers_left_off_skip_their_memberships(
    sqlite_db: Database, in_tmp: Path
) -> None:
    ProductsRepository(sqlite_db).add("Coaching Circle")
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_file(pilot, "ghost-import-tier.csv")
        assert '"Inner Circle"' in text_of(modal, "#import-new-products")
        await pilot.press("y")  # the default: Inner Circle is not created
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
    assert products(sqlite_db) == {"Coaching Circle"}
    assert memberships(sqlite_db) == {("ana.gomez@example.com", "Coaching Circle")}
    assert set(people(sqlite_db)) == {
        "ana.gomez@example.com",
        "li.wei@example.org",
        "sam@example.net",
    }


async def test_update_memberships_grants_the_file_s_memberships_to_existing_contacts(
    sqlite_db: Database, in_tmp: Path
) -> None:
    seed(sqlite_db, [Person("ana.gomez@example.com", "Ana", "Gómez")])
    ProductsRepository(sqlite_db).add("Coaching Circle")
    ProductsRepository(sqlite_db).add("Inner Circle")
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_file(pilot, "ghost-import-tier.csv")
        update = modal.query_one("#import-update-memberships", Checkbox)
        assert update.display and not update.value
        assert "1 membership granted" in text_of(modal, "#import-memberships-line")
        assert not modal.query_one("#import-create-products").display  # none to create
        update.focus()
        await pilot.press("space")
        await wait_until(pilot, lambda: modal._options.update_memberships and not modal._busy)
        assert modal.focused is update  # the choice keeps the focus
        assert "2 memberships granted" in text_of(modal, "#import-memberships-line")
        await pilot.press("y")
        await wait_until(pilot, lambda: modal.stage == "summary" and not modal._busy)
    assert memberships(sqlite_db) == {
        ("ana.gomez@example.com", "Coaching Circle"),
        ("sam@example.net", "Inner Circle"),
    }
    assert people(sqlite_db)["ana.gomez@example.com"] == ("Ana", "Gómez")  # still skipped


# -- 80x24 --------------------------------------------------------------------------


def test_snapshot_mapping_step_at_80x24(
    snap_compare: Any, sqlite_db: Database, in_tmp: Path
) -> None:
    app = make_test_app(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        modal = await open_file(pilot, "spanish.csv")
        modal.query_one("#import-path", PathInput).cursor_blink = False
        await pilot.press("tab")  # the focus on the second column's list
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
