"""Column mapping: header aliases, the proposed email column, the user's mapping
(two emails refused), `--map FIELD=COLUMN`, mappings remembered per header set,
and the reader reading a file as mapped."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from session_tui.data.csvio.mapping import (
    ColumnMapping,
    MappingError,
    auto_mapping,
    parse_map_options,
    propose_email,
    proposed_mapping,
    recall,
    remember,
)
from session_tui.data.csvio.reader import CsvFormatError, NoEmailColumn, RowSource, sniff
from session_tui.locations import column_mappings_path

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
SPANISH = ("correo_electronico", "nombre", "note")


def test_known_headers_are_mapped_as_before() -> None:
    mapping = auto_mapping(
        ["E-Mail Address", "First Name", "surname", "name", "Created At", "products", "x"]
    )
    assert mapping.used() == {
        "email": 0,
        "first_name": 1,
        "last_name": 2,
        "created_at": 4,
        "products": 5,
    }
    assert mapping.ignored() == ("name", "x")  # separate name columns win over a full name


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("OPTIN_TIME", "created_at"),
        ("CONFIRM_TIME", "created_at"),
        ("created_at", "created_at"),
        ("import_tier", "products"),
        ("tiers", "tiers"),
        ("complimentary_plan", "complimentary"),
        ("payment_types", "payment_types"),
        ("Payment Type", "payment_types"),
        ("product", "products"),
        ("memberships", "memberships"),
    ],
)
def test_aliases_of_other_platforms(header: str, field: str) -> None:
    assert auto_mapping(["email", header]).fields == ("email", field)


def test_mailchimp_opt_in_time_is_the_joined_date() -> None:
    mapping = auto_mapping(["Email Address", "OPTIN_TIME", "CONFIRM_TIME"])
    assert mapping.used() == {"email": 0, "created_at": 1}  # the first one wins


def test_the_column_of_emails_is_proposed() -> None:
    rows = [["Ann", "ann@example.com", "x"], ["Bob", "", "y"], ["Cy", "cy@example.org", "z"]]
    assert propose_email(["a", "b", "c"], rows) == 1
    assert propose_email(["a", "b"], [["x", "y"]]) is None
    # mostly not emails: not proposed
    mixed = [["a@example.com"], ["no"], ["nope"], ["never"]]
    assert propose_email(["a"], mixed) is None
    proposal = proposed_mapping(["name", "correo"], [["Ann", "ann@example.com"]])
    assert proposal.used() == {"email": 1, "full_name": 0}


def test_two_columns_mapped_to_email_are_refused() -> None:
    mapping = ColumnMapping.empty(SPANISH).with_field(0, "email").with_field(2, "email")
    problem = mapping.problem()
    assert problem is not None
    assert "'correo_electronico' and 'note' are both mapped to email" in problem
    with pytest.raises(MappingError, match="both mapped to email"):
        mapping.check()
    assert "no column is mapped to email" in (ColumnMapping.empty(SPANISH).problem() or "")
    fixed = mapping.with_field(2, "ignore")
    assert fixed.check().used() == {"email": 0}


def test_every_field_can_be_set_from_the_mapping() -> None:
    header = ("a", "b", "c", "d", "e", "f", "g")
    mapping = ColumnMapping.empty(header)
    for index, field in enumerate(
        ["email", "first_name", "last_name", "full_name", "created_at", "products", "payment_types"]
    ):
        mapping = mapping.with_field(index, field)
    assert list(mapping.used()) == [
        "email",
        "first_name",
        "last_name",
        "full_name",
        "created_at",
        "products",
        "payment_types",
    ]
    assert mapping.with_field(6, None).ignored() == ("g",)
    with pytest.raises(ValueError, match="unknown field"):
        ColumnMapping(("a",), ("phone",))


def test_map_options_of_the_command_line() -> None:
    mapping = parse_map_options(["email=correo_electronico", "first_name=nombre"], SPANISH)
    assert mapping.used() == {"email": 0, "first_name": 1}
    # names are matched ignoring case, spaces, "_" and "-"; numbers from 1 work too
    assert parse_map_options(["email=Correo Electronico"], SPANISH).used() == {"email": 0}
    assert parse_map_options(["email=1", "ignore=nombre"], SPANISH).used() == {"email": 0}
    # an explicit column replaces the one recognised from the header
    moved = parse_map_options(["email=work"], ("email", "work"))
    assert moved.fields == (None, "email")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["email=correo_electronico", "email=note"], "two columns to email"),
        (["phone=note"], "unknown field 'phone'"),
        (["email=correo"], "no column 'correo'"),
        (["email"], "expected FIELD=COLUMN"),
        (["first_name=nombre"], "no column is mapped to email"),
    ],
)
def test_bad_map_options_are_refused(options: list[str], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_map_options(options, SPANISH)


def test_a_mapping_is_remembered_per_header_set(tmp_path: Path) -> None:
    mapping = parse_map_options(["email=correo_electronico", "first_name=nombre"], SPANISH)
    path = remember(mapping)
    assert path == column_mappings_path()
    assert path.parent == Path(os.environ["SESSION_TUI_DATA_DIR"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob("*.part"))
    assert recall(SPANISH) == mapping
    # the same columns in another order find it too
    reordered = ("note", "correo_electronico", "nombre")
    again = recall(reordered)
    assert again is not None and again.used() == {"email": 1, "first_name": 2}
    assert recall(("correo_electronico", "nombre")) is None  # another header set
    # a second mapping for the same headers replaces the first
    remember(mapping.with_field(1, "full_name").with_field(2, None))
    assert recall(SPANISH) == mapping.with_field(1, "full_name")
    assert len(json.loads(path.read_text(encoding="utf-8"))["mappings"]) == 1


def test_a_damaged_mappings_file_is_forgotten_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "maps.json"
    path.write_text("{not json", encoding="utf-8")
    assert recall(SPANISH, path) is None
    mapping = parse_map_options(["email=correo_electronico"], SPANISH)
    remember(mapping, path)
    assert recall(SPANISH, path) == mapping
    with pytest.raises(MappingError):
        remember(ColumnMapping.empty(SPANISH), path)  # nothing for email: not kept


def test_a_file_without_an_email_header_gets_a_proposal() -> None:
    with pytest.raises(NoEmailColumn) as caught:
        sniff(FIXTURES / "spanish.csv")
    assert "has no email column" in str(caught.value)  # the same message as before
    assert caught.value.proposal.fields == ("email", None, None)
    assert caught.value.delimiter == ","
    with pytest.raises(NoEmailColumn) as nothing:
        sniff(FIXTURES / "no-email-column.csv")
    assert nothing.value.proposal.index("email") is None  # no column looks like emails


def test_the_reader_reads_a_file_as_mapped() -> None:
    header_error: NoEmailColumn | None = None
    try:
        sniff(FIXTURES / "spanish.csv")
    except NoEmailColumn as exc:
        header_error = exc
    assert header_error is not None
    mapping = parse_map_options(
        ["email=correo_electronico", "name=nombre"], header_error.proposal.header
    )
    layout = sniff(FIXTURES / "spanish.csv", mapping=mapping)
    assert layout.describe()["mapping"] == {
        "email": "correo_electronico",
        "full_name": "nombre",
    }
    assert layout.ignored == ("note",)
    assert layout.column_mapping == mapping
    with RowSource(layout) as source:
        rows = [cells for _, cells in source]
    assert [r[layout.columns.email] for r in rows] == [
        "maria.lopez@example.es",
        "jose@example.es",
        "carmen@example.es",
    ]
    # a mapping made for other columns, or without email, is refused
    with pytest.raises(CsvFormatError, match="not the ones the mapping was made for"):
        sniff(FIXTURES / "ghost.csv", mapping=mapping)
    with pytest.raises(CsvFormatError, match="no column is mapped to email"):
        sniff(FIXTURES / "spanish.csv", mapping=ColumnMapping.empty(mapping.header))
