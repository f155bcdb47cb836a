"""The filter's text form: parser, printer, positioned errors; JSON for segments."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_tui.data.filters import (
    EMPTY,
    Condition,
    FieldName,
    FilterError,
    FilterSyntaxError,
    Group,
    Mode,
    Op,
    from_json,
    normalize,
    parse,
    to_json,
    to_text,
)

P, S, Y = FieldName.PRODUCT, FieldName.STATUS, FieldName.PAYMENT


def cond(field: FieldName, value: str, op: Op | None = None) -> Condition:
    default = {
        FieldName.SEARCH: Op.CONTAINS,
        FieldName.EXPIRES: Op.WITHIN,
        FieldName.JOINED: Op.ON,
    }.get(field, Op.IS)
    return Condition(field, op or default, value)


SPEC_TEXTS = [
    (
        'product:"1:1 Coaching" and (status:active or payment:comped)',
        Group(
            Mode.AND,
            (cond(P, "1:1 Coaching"), Group(Mode.OR, (cond(S, "active"), cond(Y, "comped")))),
        ),
    ),
    (
        "search:ann domain:gmail.com",
        Group(Mode.AND, (cond(FieldName.SEARCH, "ann"), cond(FieldName.DOMAIN, "gmail.com"))),
    ),
    ("not product:Course", Group(Mode.AND, (cond(P, "Course", Op.IS_NOT),))),
    (
        "joined:>=2026-01-01",
        Group(Mode.AND, (cond(FieldName.JOINED, "2026-01-01", Op.ON_OR_AFTER),)),
    ),
    ("joined:<2026-06-01", Group(Mode.AND, (cond(FieldName.JOINED, "2026-06-01", Op.BEFORE),))),
    ("expires:30d", Group(Mode.AND, (cond(FieldName.EXPIRES, "30"),))),
]


@pytest.mark.parametrize(("text", "expected"), SPEC_TEXTS)
def test_spec_texts_parse_and_print_back(text: str, expected: Group) -> None:
    assert parse(text) == expected
    assert parse(to_text(expected)) == expected


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("PRODUCT:Course AND Status:ACTIVE", "product:Course and status:active"),
        ("search:ann domain:GMAIL.com", "search:ann and domain:gmail.com"),
        ("ann", "search:ann"),  # a bare word is a search
        ('"ann smith"', 'search:"ann smith"'),
        ("not ann", "not search:ann"),
        ("a or b c", "search:a or (search:b and search:c)"),  # and binds tighter
        ("(a or b)", "search:a or search:b"),
        ("a and (b)", "search:a and search:b"),
        ("((a))", "search:a"),
        ("expires:7", "expires:7d"),
        ("joined:=2026-01-01", "joined:2026-01-01"),
        ("joined:>2026-01-01 joined:<=2026-02-01", "joined:>2026-01-01 and joined:<=2026-02-01"),
        ("payment_type:paid email_domain:@x.org", "payment:paid and domain:x.org"),
        ("status:all", "status:all"),
        (r'product:"say \"hi\" \\ bye"', r'product:"say \"hi\" \\ bye"'),
        ("product:a:b", "product:a:b"),
        ('product:"  spaced   out "', 'product:"spaced out"'),
        ("", ""),
        ("   ", ""),
    ],
)
def test_parse_then_print(text: str, printed: str) -> None:
    assert to_text(parse(text)) == printed
    assert parse(printed) == parse(text)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("status:foo", 8, "active, expired, none or all"),
        ("product:Course and", 19, "expected a condition after 'and'"),
        ("or a", 1, "expected a condition"),
        ("a and and b", 7, "expected a condition after 'and'"),
        ("(status:active", 1, "never closed"),
        ("status:active)", 14, "unexpected ')'"),
        ("()", 2, "empty parentheses"),
        ('product:"1:1 Coaching', 9, "quote is never closed"),
        ("colour:red", 1, "unknown field 'colour'"),
        (":x", 1, "field name is missing"),
        ("product:", 9, "expected a value"),
        ("search: ann", 8, "expected a value"),
        ("not status:active", 1, "'not' cannot be used with status"),
        ("not payment:paid", 1, "'not' cannot be used with payment"),
        ("not (a or b)", 1, "'not' applies to one condition"),
        ("not", 4, "expected a condition after 'not'"),
        ("joined:2026-02-30", 8, "not a date"),
        ("joined:>=2026-1-1", 10, "not a date"),
        ("joined:>=yesterday", 10, "not a date"),
        ("expires:soon", 9, "number of days"),
        ("expires:99999d", 9, "too far ahead"),
        ("domain:a@b", 8, "not an email domain"),
        ("a and (b or (c and d))", 13, "nested only one level deep"),
        ("(a or b) and c or d", 1, "nested only one level deep"),
        ('product:ab"cd"', 11, "unexpected quote"),
        ("x" * 10_001, 10_001, "longer than"),
        ("(" * 20 + "a" + ")" * 20, 13, "too many nested parentheses"),
    ],
)
def test_syntax_errors_name_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse(text)
    assert info.value.column == column
    assert fragment in info.value.message
    assert str(info.value).startswith(f"column {column}: ")


PIECES = st.sampled_from(
    list('abc :()"\\<>=-@.0123456789d\t\x00é')
    + [
        " and ",
        " or ",
        "not ",
        "AND",
        "product:",
        "status:",
        "joined:",
        "expires:",
        "domain:",
        "search:",
        "payment:",
        "Status:Active",
        '"1:1 x"',
        "2026-01-01",
        "30d",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=25).map("".join))
def test_any_text_parses_or_gives_a_positioned_error(text: str) -> None:
    try:
        flt = parse(text)
    except FilterSyntaxError as exc:
        assert 1 <= exc.column <= len(text) + 1
        return
    # accepted text prints to a text that parses to the same filter
    assert parse(to_text(flt)) == flt


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_never_raises_anything_else(text: str) -> None:
    try:
        flt = parse(text)
    except FilterSyntaxError as exc:
        assert 1 <= exc.column <= len(text) + 1
    else:
        assert parse(to_text(flt)) == flt


# -- round trips over generated filters --------------------------------------------------
VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda v: v.strip() != "")


def _maybe(field: FieldName, ops: list[Op], values: st.SearchStrategy[str]) -> st.SearchStrategy:
    def build(op: Op, value: str) -> Condition | None:
        try:
            return Condition(field, op, value)
        except FilterError:
            return None

    return st.builds(build, st.sampled_from(ops), values).filter(lambda c: c is not None)


CONDITIONS = st.one_of(
    _maybe(P, [Op.IS, Op.IS_NOT], VALUES),
    _maybe(S, [Op.IS], st.sampled_from(["active", "expired", "none", "all"])),
    _maybe(Y, [Op.IS], st.sampled_from(["paid", "free", "comped"])),
    _maybe(FieldName.SEARCH, [Op.CONTAINS, Op.NOT_CONTAINS], VALUES),
    _maybe(
        FieldName.JOINED,
        [Op.BEFORE, Op.ON_OR_BEFORE, Op.ON, Op.ON_OR_AFTER, Op.AFTER],
        st.dates().map(lambda d: d.isoformat()),
    ),
    _maybe(FieldName.EXPIRES, [Op.WITHIN], st.integers(0, 36500).map(str)),
    _maybe(
        FieldName.DOMAIN,
        [Op.IS, Op.IS_NOT],
        st.from_regex(r"[a-z0-9-]{1,8}\.[a-z]{2,4}", fullmatch=True),
    ),
)
MODES = st.sampled_from([Mode.AND, Mode.OR])
NESTED = st.builds(Group, MODES, st.lists(CONDITIONS, max_size=3).map(tuple))
FILTERS = st.builds(Group, MODES, st.lists(st.one_of(CONDITIONS, NESTED), max_size=4).map(tuple))


@settings(max_examples=300, deadline=None)
@given(FILTERS)
def test_print_parse_round_trip(flt: Group) -> None:
    text = to_text(flt)
    assert parse(text) == normalize(flt)
    assert to_text(parse(text)) == to_text(normalize(flt))


@settings(max_examples=200, deadline=None)
@given(FILTERS)
def test_json_round_trip_is_exact(flt: Group) -> None:
    """Segments store the panel's tree exactly, not normalised."""
    assert from_json(to_json(flt)) == flt


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[]",
        '{"version": 99, "mode": "and", "items": []}',
        '{"mode": "xor", "items": []}',
        '{"mode": "and", "items": [{"field": "status", "op": "is", "value": "odd"}]}',
        '{"mode": "and", "items": [{"field": "colour", "op": "is", "value": "red"}]}',
        '{"mode": "and", "items": [{"mode": "or", "items": [{"mode": "and", "items": []}]}]}',
        '{"mode": "and", "items": [42]}',
    ],
)
def test_bad_json_is_a_filter_error(data: str) -> None:
    with pytest.raises(FilterError):
        from_json(data)


def test_json_shape_is_readable() -> None:
    flt = parse('product:"1:1 Coaching" (status:active or payment:comped)')
    assert json.loads(to_json(flt)) == {
        "version": 1,
        "mode": "and",
        "items": [
            {"field": "product", "op": "is", "value": "1:1 Coaching"},
            {
                "mode": "or",
                "items": [
                    {"field": "status", "op": "is", "value": "active"},
                    {"field": "payment", "op": "is", "value": "comped"},
                ],
            },
        ],
    }


def test_normalize_and_empty() -> None:
    assert parse("") == EMPTY and EMPTY.is_empty
    one = Group(Mode.OR, (Group(Mode.AND, (cond(S, "active"),)),))
    assert normalize(one) == Group(Mode.AND, (cond(S, "active"),))
    assert to_text(one) == "(status:active)"
    with pytest.raises(FilterError):
        Group(Mode.AND, (Group(Mode.OR, (Group(Mode.AND, ()),)),)).check()


def test_condition_values_are_checked_and_canonical() -> None:
    assert Condition(S, Op.IS, " ACTIVE ").value == "active"
    assert Condition(FieldName.DOMAIN, Op.IS, "@Gmail.COM").value == "gmail.com"
    assert Condition(P, Op.IS, "a\x1b[31m  b").value == "a[31m b"  # controls removed
    with pytest.raises(FilterError):
        Condition(S, Op.IS_NOT, "active")
    with pytest.raises(FilterError):
        Condition(P, Op.IS, "   ")
    with pytest.raises(FilterError):
        Condition(FieldName.JOINED, Op.ON, "0001-01-01")
