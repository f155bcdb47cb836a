"""Bad filter text: random text and random token soup. `parse` returns a filter or
raises `FilterSyntaxError` with a column inside the text -- never anything else;
what it accepts prints back to the same filter and runs as SQL on both databases;
a segment saved from it loads back identical. In the panel, bad text shows its
error and the table keeps the last valid filter."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_tui.data.db import Database
from session_tui.data.filters import FilterSyntaxError, Group, normalize, parse, to_text
from session_tui.data.filters.text import MAX_LENGTH
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.repositories.segments import SegmentsRepository

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TOKENS = [
    "product:",
    "status:",
    "payment:",
    "search:",
    "joined:",
    "expires:",
    "domain:",
    "PRODUCT:",
    "email_domain:",
    "payment_type:",
    "nope:",
    ":",
    "::",
    "active",
    "expired",
    "none",
    "all",
    "paid",
    "free",
    "comped",
    "Coaching",
    '"1:1 Coaching"',
    '"',
    '\\"',
    "\\",
    "(",
    ")",
    "((",
    "))",
    "and",
    "or",
    "not",
    "AND",
    "OR",
    "NOT",
    ">=",
    "<=",
    "<",
    ">",
    "=",
    "2026-01-01",
    "2026-13-45",
    "0000-01-01",
    "30d",
    "-1d",
    "99999999999999999999d",
    "30",
    "gmail.com",
    "x'; DROP TABLE contact; --",
    "%",
    "_",
    "*",
    "[@click=app.quit]",
    "\x1b[2J",
    "\u202e",
    "👩‍👩‍👧",
    "日本",
    " ",
    "\t",
    "\n",
]


def check(text: str) -> Group | None:
    try:
        flt = parse(text)
    except FilterSyntaxError as exc:
        assert 1 <= exc.column <= len(text) + 1, (text, exc.column)
        assert exc.message and "\n" not in str(exc)
        return None
    assert isinstance(flt, Group)
    assert parse(to_text(flt)) == normalize(flt), text
    return flt


@FUZZ
@given(text=st.text(max_size=120))
def test_random_text(text: str) -> None:
    check(text)


@FUZZ
@given(parts=st.lists(st.sampled_from(TOKENS), max_size=14), glue=st.sampled_from([" ", ""]))
def test_random_tokens_parse_and_run(sqlite_db: Database, parts: list[str], glue: str) -> None:
    flt = check(glue.join(parts))
    if flt is not None:
        n = ContactsRepository(sqlite_db).count(ContactQuery(filter=flt))
        assert n == 0  # an empty database, but the SQL had to run


def test_accepted_filters_run_on_both_databases_and_round_trip_as_segments(db: Database) -> None:
    from tests.helpers import add_contacts

    add_contacts(db, [("a@gmail.com", "Ann", "Lee"), ("b@x.org", "Bo", "[@click=app.quit]")])
    texts = [
        'search:"x\'; DROP TABLE contact; --"',
        'search:"[@click=app.quit]"',
        'product:"%" or domain:gmail.com',
        'not product:"_" and (status:active or payment:comped)',
        "joined:>=2026-01-01 expires:30d",
        'search:"\\"quoted\\""',
        "日本 or 👩‍👩‍👧",
    ]
    repo = ContactsRepository(db)
    segments = SegmentsRepository(db)
    for i, text in enumerate(texts):
        flt = check(text)
        assert flt is not None, text
        repo.count(ContactQuery(filter=flt))
        saved = segments.save(f"seg {i} [bold]", flt)
        assert parse(saved.text) == normalize(flt)
    assert repo.count(ContactQuery(filter=parse('search:"[@click=app.quit]"'))) == 1
    assert repo.total() == 2


def test_long_and_deep_text_is_refused_with_a_column() -> None:
    assert check("a " * (MAX_LENGTH // 2 + 10)) is None
    assert check("(" * 500 + "a" + ")" * 500) is None
    assert check("not " * 1000 + "product:x") is None
    assert check('"' + "\\" * 5000) is None
