"""CSV reading: encodings, delimiters, header aliases, line numbers, clear errors,
the escaping scheme, and a fuzz test that the reader never raises anything but
CsvFormatError and the import counts always add up."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_tui.data.csvio import CsvFormatError, escape_cell, import_csv, sniff, unescape_cell
from session_tui.data.csvio.reader import RowSource, is_blank, normalize_header
from session_tui.data.db import Database

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def rows_of(path: Path) -> list[tuple[int, list[str]]]:
    with RowSource(sniff(path)) as source:
        return list(source)


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "mapping", "ignored"),
    [
        (
            "ghost.csv",
            "UTF-8",
            "comma",
            {"email": "email", "full_name": "name", "created_at": "created_at"},
            [
                "id",
                "note",
                "subscribed_to_emails",
                "complimentary_plan",
                "stripe_customer_id",
                "deleted_at",
                "labels",
                "tiers",
            ],
        ),
        (
            "mailchimp.csv",
            "UTF-8",
            "comma",
            {
                "email": "Email Address",
                "first_name": "First Name",
                "last_name": "Last Name",
                "created_at": "OPTIN_TIME",
            },
            None,
        ),
        (
            "kit.csv",
            "UTF-8",
            "comma",
            {"email": "email", "first_name": "first_name", "created_at": "created_at"},
            ["status", "tags"],
        ),
        (
            "session-tui.csv",
            "UTF-8",
            "comma",
            {
                "email": "email",
                "first_name": "first_name",
                "last_name": "last_name",
                "created_at": "created_at",
            },
            ["status", "products", "payment_types"],
        ),
        (
            "bom.csv",
            "UTF-8 with BOM",
            "comma",
            {"email": "Email", "first_name": "First Name", "last_name": "Last Name"},
            [],
        ),
        (
            "cp1252.csv",
            "Windows-1252 (cp1252)",
            "semicolon",
            {"email": "email", "first_name": "first name", "last_name": "last name"},
            [],
        ),
        (
            "semicolon.csv",
            "UTF-8",
            "semicolon",
            {"email": "E-Mail", "first_name": "Given Name", "last_name": "Family Name"},
            ["Vorname", "Nachname"],
        ),
        (
            "tab.tsv",
            "UTF-8",
            "tab",
            {"email": "email", "first_name": "given name", "last_name": "surname"},
            ["city"],
        ),
    ],
)
def test_real_world_formats_are_recognised(
    name: str, encoding: str, delimiter: str, mapping: dict[str, str], ignored: list[str] | None
) -> None:
    layout = sniff(FIXTURES / name)
    described = layout.describe()
    assert described["encoding"] == encoding
    assert described["delimiter"] == delimiter
    assert described["mapping"] == mapping
    if ignored is not None:
        assert described["ignored_columns"] == ignored
    else:  # Mailchimp: everything but the three name/email columns
        assert "TAGS" in layout.ignored and "Email Address" not in layout.ignored


def test_cp1252_is_read_with_a_note() -> None:
    layout = sniff(FIXTURES / "cp1252.csv")
    assert layout.notes and "not UTF-8" in layout.notes[0]
    cells = [c for _, c in rows_of(FIXTURES / "cp1252.csv")]
    assert cells[0][1:] == ["René", "Gonçalves"]
    assert cells[1][1] == "Ann€"
    assert cells[2][1] == "D\u2019Arcy"


def test_bom_is_not_part_of_the_first_header() -> None:
    layout = sniff(FIXTURES / "bom.csv")
    assert layout.header[0] == "Email"
    assert rows_of(FIXTURES / "bom.csv")[0] == (2, ["zoe@example.com", "Zoë", "Saldaña"])


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(
        codecs.BOM_UTF16_LE + "email\tname\r\nu@example.com\tÜlla Ö\r\n".encode("utf-16-le")
    )
    layout = sniff(path)
    assert (layout.encoding_name, layout.delimiter_name) == ("UTF-16", "tab")
    assert rows_of(path) == [(2, ["u@example.com", "Ülla Ö"])]


def test_line_numbers_are_physical_lines() -> None:
    got = [(line, cells[0]) for line, cells in rows_of(FIXTURES / "quoted-newlines.csv")]
    assert got == [(2, "a1@example.com"), (5, "bad-email"), (7, "a2@example.com")]
    ghost = [line for line, _ in rows_of(FIXTURES / "ghost.csv")]
    assert ghost == [2, 3, 4, 6]  # row 4's note spans two lines


def test_ragged_rows_and_blank_lines() -> None:
    got = rows_of(FIXTURES / "ragged.csv")
    assert [line for line, _ in got] == [2, 3, 4, 5, 8]  # lines 6 and 7 are empty
    assert got[0][1] == ["r1@example.com", "Ray"]
    assert is_blank(got[2][1])  # ",": not a data row for the importer


def test_header_only_has_no_rows() -> None:
    assert rows_of(FIXTURES / "header-only.csv") == []


def test_sep_line_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_text("sep=|\nemail|first name\na@example.com|Ann\n", encoding="utf-8")
    layout = sniff(path)
    assert layout.delimiter == "|" and layout.header_line == 2
    assert rows_of(path) == [(3, ["a@example.com", "Ann"])]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "is empty"),
        ("binary.png", "not a CSV file"),
        ("no-email-column.csv", "no email column"),
        ("no-header.csv", "first line holds data"),
    ],
)
def test_files_that_cannot_be_imported_get_a_clear_message(name: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        sniff(FIXTURES / name)


def test_missing_file_directory_and_spreadsheet(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="no such file"):
        sniff(tmp_path / "nope.csv")
    with pytest.raises(CsvFormatError, match="directory"):
        sniff(tmp_path)
    xlsx = tmp_path / "book.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x14\x00" * 50)
    with pytest.raises(CsvFormatError, match="save it as CSV"):
        sniff(xlsx)


def test_error_messages_hold_no_terminal_escapes(tmp_path: Path) -> None:
    path = tmp_path / "evil.csv"
    path.write_text("\x1b]0;pwned\x07name,\x1b[31mphone\n", encoding="utf-8")
    with pytest.raises(CsvFormatError) as info:
        sniff(path)
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)


def test_an_unclosed_quote_swallowing_the_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "open-quote.csv"
    path.write_text('email,name\na@example.com,"Ann\n' + "x," * 70_000 + "\n", encoding="utf-8")
    layout = sniff(path)
    with pytest.raises(CsvFormatError, match="line 2"), RowSource(layout) as source:
        list(source)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Email Address", "email"),
        ("E-Mail", "email"),
        ("e_mail", "email"),
        ("EMAIL", "email"),
        ("first name", "first_name"),
        ("Given-Name", "first_name"),
        ("last_name", "last_name"),
        ("Surname", "last_name"),
        ("family name", "last_name"),
        ("Full Name", "full_name"),
        ("name", "full_name"),
        ("Created At", "created_at"),
    ],
)
def test_header_aliases(header: str, field: str) -> None:
    from session_tui.data.csvio.reader import HEADER_ALIASES

    assert HEADER_ALIASES[normalize_header(header)] == field


def test_separate_name_columns_win_over_a_full_name(tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_text("name,email,first_name\nAnn Lee,a@example.com,Annie\n", encoding="utf-8")
    layout = sniff(path)
    assert layout.columns.full_name is None and layout.columns.first_name == 2
    assert layout.ignored == ("name",)


# -- escaping -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("''", "'''"),
        ("'quoted'", "'quoted'"),
        ("'", "'"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_escape_scheme(value: str, escaped: str) -> None:
    assert escape_cell(value) == escaped
    assert unescape_cell(escaped) == value


@given(st.text())
def test_unescape_inverts_escape(value: str) -> None:
    escaped = escape_cell(value)
    assert unescape_cell(escaped) == value
    assert not escaped or escaped[0] not in "=+-@\t\r"


# -- fuzz -------------------------------------------------------------------------

_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "a@example.com",
            "B@Example.com",
            "bad@",
            "",
            " ",
            "'=1",
            "=1+1",
            '"',
            "x\ny",
            "é",
            "\x00",
            ";",
            "\t",
        ]
    ),
)


def _independent_row_count(layout_path: Path) -> int:
    layout = sniff(layout_path)
    with RowSource(layout) as source:
        email = layout.columns.email
        return sum(
            1
            for _line, cells in source
            if not (email >= len(cells) or not cells[email].strip()) or not is_blank(cells)
        )


def _check_import(sqlite_db: Database, path: Path) -> None:
    try:
        report = import_csv(sqlite_db, path, dry_run=True)
    except CsvFormatError as exc:
        assert str(exc)  # a message for the user, nothing else
        return
    assert report.data_rows == _independent_row_count(path)
    assert min(report.added, report.skipped, report.duplicates, report.invalid) >= 0


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=400))
def test_fuzz_random_bytes(sqlite_db: Database, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    _check_import(sqlite_db, path)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=st.lists(
        st.sampled_from(
            [
                "email",
                "E-Mail",
                "name",
                "first name",
                "surname",
                "x",
                "",
                "created_at",
                "Email Address",
            ]
        ),
        min_size=1,
        max_size=5,
    ),
    rows=st.lists(st.lists(_cells, max_size=6), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    text_prefix=st.text(max_size=5),
)
def test_fuzz_random_shapes(
    sqlite_db: Database,
    tmp_path: Path,
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    encoding: str,
    text_prefix: str,
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    text = text_prefix + buf.getvalue()
    path = tmp_path / "shape.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    _check_import(sqlite_db, path)
