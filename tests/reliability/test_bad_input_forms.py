"""Bad form input: empty, huge, control-character, right-to-left and emoji values in
the edit-contact and add-membership forms -- through the data-layer functions (with
hypothesis) and through the modals (Pilot, values pasted as a terminal delivers
them). Either the form says what is wrong beside the field and writes nothing, or
it saves the normalised value; nothing invalid reaches the database; the app keeps
running and nothing hostile reaches the terminal."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from textual import events
from textual.widgets import Input, Static

from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.editing import update_contact
from session_tui.data.filters import parse
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.repositories.segments import SegmentsRepository
from session_tui.data.tables import contact_t, product_t
from session_tui.data.validation import MAX_NAME, ValidationError, email_problem, strip_controls
from session_tui.ui.app import SessionApp, make_app
from session_tui.ui.modals.edit_contact import EditContactModal
from tests.reliability.helpers import capture, integrity_ok, stray_controls, table_state
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE = {
    "empty": "",
    "blank": "   \t ",
    "huge": "A" * 10_000,
    "just over": "B" * (MAX_NAME + 1),
    "at the limit": "C" * MAX_NAME,
    "controls": "Ann\x00\x07\x1b[2J\x1b]0;t\x07\x7f\x9bSmith",
    "rtl": "\u202eelif.exe \u05e9\u05dc\u05d5\u05dd \u0645\u062d\u0645\u062f",
    "emoji": "👩‍👩‍👧 Zoë 🇺🇦",
    "combining": "e\u0301\u0301\u0301",
    "zero width": "\u200b\u200c\u200d\ufeff",
}
EMAILS = {
    "empty": "",
    "huge": "a" * 400 + "@example.com",
    "controls": "ann\x00@exa\x1b[2Jmple.com",
    "rtl": "\u202eann@example.com",
    "emoji": "👩@example.com",
    "idn": "ÄNN@bücher.de",
    "no at": "ann.example.com",
    "spaces": "  MiXeD@Example.COM  ",
}

names = st.one_of(st.sampled_from(list(HOSTILE.values())), st.text(max_size=250))
emails = st.one_of(
    st.sampled_from(list(EMAILS.values())),
    st.text(max_size=40),
    st.from_regex(r"[a-zA-Z0-9._%+-]{1,20}@[a-z]{1,10}\.[a-z]{2,4}", fullmatch=True),
)


def assert_contact_valid(email: str, first: str, last: str) -> None:
    assert email_problem(email) is None and email == email.strip().lower()
    assert strip_controls(email) == email
    for name in (first, last):
        assert len(name) <= MAX_NAME
        assert strip_controls(name) == name and name == " ".join(name.split())
        assert unicodedata.is_normalized("NFC", name)


def all_contacts(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(contact_t).order_by(contact_t.c.id)))


# -- data layer ---------------------------------------------------------------------


@FUZZ
@given(first=names, last=names, email=emails)
def test_update_contact_saves_normalised_values_or_writes_nothing(
    sqlite_db: Database, first: str, last: str, email: str
) -> None:
    from tests.helpers import add_contacts

    with sqlite_db.engine.begin() as conn:
        conn.execute(contact_t.delete())
    (cid,) = add_contacts(sqlite_db, [("orig@example.com", "Orig", "Inal")])
    before = all_contacts(sqlite_db)
    try:
        saved = update_contact(sqlite_db, cid, 1, first, last, email)
    except ValidationError as exc:
        assert exc.field in ("first_name", "last_name", "email")
        assert exc.message and "\n" not in exc.message
        assert all_contacts(sqlite_db) == before
        return
    assert_contact_valid(saved.email, saved.first_name, saved.last_name)
    (row,) = all_contacts(sqlite_db)
    assert (row.email, row.first_name, row.last_name) == (
        saved.email,
        saved.first_name,
        saved.last_name,
    )


@FUZZ
@given(email=emails, first=names, days=st.integers(-400, 400) | st.none())
def test_grant_creates_only_valid_contacts(
    sqlite_db: Database, email: str, first: str, days: int | None
) -> None:
    repo = MembershipsRepository(sqlite_db)
    products = ProductsRepository(sqlite_db)
    if products.get("Coaching") is None:
        products.add("Coaching")
    before = table_state(sqlite_db)
    expires = None if days is None else utcnow() + timedelta(days=days)
    try:
        result = repo.grant(email, "Coaching", "paid", expires_at=expires, first_name=first)
    except ValidationError as exc:
        assert exc.field in ("email", "product", "expires_at", "first_name", "payment_type")
        assert table_state(sqlite_db) == before
        return
    for row in all_contacts(sqlite_db):
        assert_contact_valid(row.email, row.first_name, row.last_name)
    assert result.membership.email == result.membership.email.lower()


@pytest.mark.parametrize("name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_product_and_segment_names(sqlite_db: Database, name: str) -> None:
    products = ProductsRepository(sqlite_db)
    try:
        row = products.add(name)
    except ValidationError as exc:
        assert exc.field == "name"
    else:
        assert strip_controls(row.name) == row.name and 0 < len(row.name) <= MAX_NAME
    segments = SegmentsRepository(sqlite_db)
    try:
        seg = segments.save(name, parse("status:active"))
    except (ValidationError, ValueError) as exc:
        assert str(exc)
    else:
        assert strip_controls(seg.name) == seg.name and seg.name.strip()
    with sqlite_db.engine.connect() as conn:
        for (stored,) in conn.execute(select(product_t.c.name)):
            assert strip_controls(stored) == stored


# -- the modals -----------------------------------------------------------------------

SIZE = (120, 40)


def paste(app: SessionApp, text: str) -> None:
    app.post_message(events.Paste(text))


def error_of(modal: Any, field: str) -> str:
    widget = modal.query_one(f"#{field}-error", Static)
    return str(widget.render()) if widget.display else ""


def seed_forms(db: Database) -> None:
    from tests.helpers import add_contacts

    add_contacts(db, [("ann@example.com", "Ann", "Lee"), ("bo@example.com", "Bo", "Day")])
    ProductsRepository(db).add("Coaching")


# The modals get a representative subset (the data-layer tests above get them all).
UI_NAMES = ["huge", "controls", "emoji"]
UI_EMAILS = ["empty", "controls", "idn", "spaces"]
EDIT_CASES = (
    [("first_name", HOSTILE[k]) for k in UI_NAMES]
    + [("last_name", HOSTILE["rtl"])]
    + [("email", EMAILS[k]) for k in UI_EMAILS]
)


async def test_edit_modal(sqlite_db: Database) -> None:
    """Every hostile value in turn, in one session: refused beside its field (nothing
    written) or saved normalised."""
    seed_forms(sqlite_db)
    app = make_app(db=sqlite_db)
    outcomes: dict[str, int] = {"saved": 0, "refused": 0}
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        for field, value in EDIT_CASES:
            before = all_contacts(sqlite_db)
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
            modal = app.screen
            box = modal.query_one(f"#edit-{field}", Input)
            box.focus()
            box.value = ""
            await pilot.pause()
            paste(app, value)
            await pilot.pause()
            assert stray_controls(capture(app).ansi) == []
            await pilot.press("ctrl+s")
            await wait_until(
                pilot,
                lambda m=modal, f=field: app.screen is not m or bool(error_of(m, f)),  # type: ignore[misc]
            )
            if app.screen is modal:  # refused: the reason beside the field, nothing written
                outcomes["refused"] += 1
                assert stray_controls(capture(app).ansi) == []
                assert all_contacts(sqlite_db) == before, (field, value)
                await pilot.press("escape")
                await wait_until(pilot, lambda m=modal: app.screen is not m)  # type: ignore[misc]
            else:
                outcomes["saved"] += 1
            for row in all_contacts(sqlite_db):
                assert_contact_valid(row.email, row.first_name, row.last_name)
            await settle(pilot, contacts_screen(app).table)
        assert app.is_running
    assert outcomes["saved"] and outcomes["refused"]
    assert integrity_ok(sqlite_db)


async def test_add_membership_modal(sqlite_db: Database) -> None:
    seed_forms(sqlite_db)
    app = make_app(db=sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, contacts_screen(app).table)
        for value in [EMAILS[k] for k in ("empty", "controls", "spaces")]:
            before = table_state(sqlite_db)
            await pilot.press("a")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "AddMembershipModal")
            modal = app.screen
            await wait_until(pilot, lambda m=modal: m.query_one("#product").value == 1)  # type: ignore[misc]
            box = modal.query_one("#email", Input)
            box.value = ""
            box.focus()
            await pilot.pause()
            paste(app, value)
            await pilot.pause()
            assert stray_controls(capture(app).ansi) == []
            await pilot.press("ctrl+s")
            await wait_until(
                pilot,
                lambda m=modal: (
                    app.screen is not m  # type: ignore[misc]
                    or bool(error_of(m, "email") or error_of(m, "general"))
                ),
            )
            if app.screen is modal:
                assert table_state(sqlite_db) == before, value
                await pilot.press("escape")
                await wait_until(pilot, lambda m=modal: app.screen is not m)  # type: ignore[misc]
            await settle(pilot, contacts_screen(app).table)
        assert app.is_running
    for row in all_contacts(sqlite_db):
        assert_contact_valid(row.email, row.first_name, row.last_name)
    assert integrity_ok(sqlite_db)


def test_expiry_box_nonsense_is_refused() -> None:
    from session_tui.ui.modals.membership_actions import parse_expiry

    for text in ("2026-02-30", "0000-01-01", "99999-01-01", "\x1b[2J", "tomorrow", "١٢-٠١-٢٠٢٦"):
        with pytest.raises(ValidationError):
            parse_expiry(text)
    assert parse_expiry("  ") == (True, None)
    ok, value = parse_expiry("2030-01-31")
    assert ok and value is not None and value > datetime(2030, 1, 1)
