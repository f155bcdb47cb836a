"""Files in the shapes of Ghost's member import, Mailchimp, Kit and a Spanish
export: the reader, the column mapping and the membership cells together give
the right contacts and membership specs (what the importer will write)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from session_tui.data.csvio.escaping import unescape_cell
from session_tui.data.csvio.mapping import parse_map_options
from session_tui.data.csvio.membership_cells import Invalid, MembershipCells
from session_tui.data.csvio.reader import CsvLayout, NoEmailColumn, RowSource, sniff
from session_tui.data.tables import PaymentType

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
PAID, COMPED = PaymentType.PAID, PaymentType.COMPED

Contact = tuple[str, str, str, str]  # email, first (or full) name, last name, joined
Specs = list[tuple[str | None, PaymentType]] | str  # or the invalid reason


def read(layout: CsvLayout, **kwargs: object) -> list[tuple[Contact, Specs]]:
    """Each row's contact fields (as the file holds them) and memberships."""
    assert layout.column_mapping is not None
    cells_of = MembershipCells(layout.column_mapping, **kwargs)  # type: ignore[arg-type]
    used = layout.columns.used()

    def cell(row: list[str], name: str) -> str:
        index = used.get(name)
        return unescape_cell(row[index]) if index is not None and index < len(row) else ""

    out: list[tuple[Contact, Specs]] = []
    with RowSource(layout) as source:
        for _, row in source:
            name = cell(row, "first_name") or cell(row, "full_name")
            contact = (cell(row, "email"), name, cell(row, "last_name"), cell(row, "created_at"))
            parsed = cells_of.parse(row)
            specs: Specs = (
                parsed.reason
                if isinstance(parsed, Invalid)
                else [(s.product, s.payment_type) for s in parsed]
            )
            out.append((contact, specs))
    return out


def test_ghost_member_import_shape() -> None:
    layout = sniff(FIXTURES / "ghost-members.csv")
    assert layout.describe()["mapping"] == {
        "email": "email",
        "full_name": "name",
        "created_at": "created_at",
    }
    assert layout.ignored == ("note", "subscribed_to_emails", "labels")
    assert read(layout) == [
        (("ana.gomez@example.com", "Ana Gómez", "", "2023-04-12T09:15:32.000Z"), []),
        (("li.wei@example.org", "Li Wei", "", "2023-05-01T18:00:00.000Z"), []),
        (("=evil@example.com", '=HYPERLINK("x")', "", "2023-06-30T23:59:59.000Z"), []),
        (("not-an-email", "Nobody", "", "2023-07-01T00:00:00.000Z"), []),
    ]


def test_ghost_import_tier_shape() -> None:
    layout = sniff(FIXTURES / "ghost-import-tier.csv")
    assert layout.column_mapping is not None
    assert layout.column_mapping.used() == {"email": 0, "products": 2}
    assert [specs for _, specs in read(layout)] == [
        [("Coaching Circle", PAID)],
        [],
        [("Inner Circle", PAID)],
    ]


def test_ghost_complimentary_plan_shape() -> None:
    layout = sniff(FIXTURES / "ghost-complimentary.csv")
    rows = read(layout, comp_product="Coaching Circle")
    assert [contact[0] for contact, _ in rows] == [
        "ana.gomez@example.com",
        "li.wei@example.org",
        "sam@example.net",
        "kai@example.net",
    ]
    assert [specs for _, specs in rows] == [
        [("Coaching Circle", COMPED)],
        [],
        [("Coaching Circle", COMPED)],
        "complimentary_plan must be true or false, not 'maybe'",
    ]
    # without a product chosen for complimentary plans, the spec says so
    assert read(layout)[0][1] == [(None, COMPED)]


def test_ghost_export_with_tiers() -> None:
    rows = read(sniff(FIXTURES / "ghost.csv"))
    by_email = {contact[0]: specs for contact, specs in rows}
    assert by_email["ann.lee@example.com"] == [("Coaching Circle", PAID)]
    assert by_email["bo@example.org"] == [("Free", COMPED)]  # complimentary_plan true


def test_spanish_headers_after_mapping() -> None:
    with pytest.raises(NoEmailColumn) as caught:
        sniff(FIXTURES / "spanish.csv")
    proposal = caught.value.proposal
    assert proposal.index("email") == 0  # the column of emails is proposed
    mapping = proposal.with_field(1, "full_name")
    assert read(sniff(FIXTURES / "spanish.csv", mapping=mapping)) == [
        (("maria.lopez@example.es", "María López", "", ""), []),
        (("jose@example.es", "José", "", ""), []),
        (("carmen@example.es", "Carmen de la Cruz", "", ""), []),
    ]
    # the command line's spelling gives the same layout
    by_options = parse_map_options(
        ["email=correo_electronico", "full_name=nombre"], proposal.header
    )
    assert (
        sniff(FIXTURES / "spanish.csv", mapping=by_options).columns
        == sniff(FIXTURES / "spanish.csv", mapping=mapping).columns
    )


def test_mailchimp_opt_in_time_is_the_joined_date() -> None:
    layout = sniff(FIXTURES / "mailchimp-optin.csv")
    assert layout.describe()["mapping"] == {
        "email": "Email Address",
        "first_name": "First Name",
        "last_name": "Last Name",
        "created_at": "OPTIN_TIME",
    }
    assert "CONFIRM_TIME" in layout.ignored
    assert [contact for contact, _ in read(layout)] == [
        ("olga@example.com", "Olga", "Ivanova", "2022-03-01 10:00:00"),
        ("pat@example.com", "Pat", "", "2021-11-11 11:11:11"),
    ]


def test_kit_created_at_is_the_joined_date() -> None:
    layout = sniff(FIXTURES / "kit-subscribers.csv")
    assert layout.describe()["mapping"] == {
        "email": "email_address",
        "first_name": "first_name",
        "created_at": "created_at",
    }
    assert [contact for contact, _ in read(layout)] == [
        ("quinn@example.com", "Quinn", "", "2023-07-04 08:30:00 UTC"),
        ("ravi@example.com", "Ravi", "", "2023-07-05T09:00:00Z"),
    ]


def test_our_own_export_shape() -> None:
    rows = read(sniff(FIXTURES / "session-tui.csv"))
    assert [specs for _, specs in rows] == [
        [("1:1 Coaching", PAID), ("Course", COMPED)],
        [],
        [("=Evil product", PaymentType.FREE)],  # the formula escape is taken off
    ]
    assert datetime.fromisoformat(rows[0][0][3]) == datetime.fromisoformat("2026-01-15T10:23:45Z")
