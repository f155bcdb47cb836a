"""Membership columns of a CSV row: our export's products/payment_types and
memberships, Ghost's tiers/import_tier/complimentary_plan, a plain
product/payment_type pair, and the reasons a row is refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from session_tui.data.csvio.mapping import auto_mapping
from session_tui.data.csvio.membership_cells import (
    Invalid,
    MembershipCells,
    MembershipSpec,
    parse_moment,
)
from session_tui.data.tables import PaymentType, Status

PAID, FREE, COMPED = PaymentType.PAID, PaymentType.FREE, PaymentType.COMPED


def parse(header: list[str], row: list[str], **kwargs: object) -> object:
    return MembershipCells(auto_mapping(header), **kwargs).parse(row)  # type: ignore[arg-type]


def pairs(result: object) -> list[tuple[str | None, PaymentType]]:
    assert isinstance(result, tuple), result
    return [(s.product, s.payment_type) for s in result]


def test_our_export_products_and_payment_types() -> None:
    header = ["email", "products", "payment_types"]
    got = parse(header, ["a@x.org", "1:1 Coaching; Course", "paid; comped"])
    assert pairs(got) == [("1:1 Coaching", PAID), ("Course", COMPED)]
    assert parse(header, ["a@x.org", "", ""]) == ()
    # formula-escaped names are read back
    assert pairs(parse(header, ["a@x.org", "'=Course", "free"])) == [("=Course", FREE)]
    # one payment type for every product; none: the default
    assert pairs(parse(header, ["a@x.org", "A;B", "Free"])) == [("A", FREE), ("B", FREE)]
    assert pairs(parse(header, ["a@x.org", "A; B", ""])) == [("A", PAID), ("B", PAID)]
    assert pairs(parse(header, ["a@x.org", "A", ""], default_payment=FREE)) == [("A", FREE)]


def test_a_plain_product_and_payment_type_pair() -> None:
    got = parse(["email", "product", "payment_type"], ["a@x.org", "  Course ", "comped"])
    assert pairs(got) == [("Course", COMPED)]


def test_ghost_tiers_import_tier_and_complimentary_plan() -> None:
    ghost = ["email", "complimentary_plan", "tiers"]
    assert pairs(parse(ghost, ["a@x.org", "false", "Gold, Silver"])) == [
        ("Gold", PAID),
        ("Silver", PAID),
    ]
    assert pairs(parse(ghost, ["a@x.org", "true", "Gold"])) == [("Gold", COMPED)]
    assert parse(ghost, ["a@x.org", "false", ""]) == ()
    tier = ["email", "gift_id", "import_tier"]
    assert pairs(parse(tier, ["a@x.org", "g1", "Inner Circle"])) == [("Inner Circle", PAID)]
    comp = ["email", "gift_id", "complimentary_plan"]
    # a complimentary plan naming no tier: the product the user picks
    assert pairs(parse(comp, ["a@x.org", "g", "true"])) == [(None, COMPED)]
    assert pairs(parse(comp, ["a@x.org", "g", "TRUE"], comp_product="Default")) == [
        ("Default", COMPED)
    ]
    assert parse(comp, ["a@x.org", "g", "false"]) == ()
    assert parse(comp, ["a@x.org", "g", "maybe"]) == Invalid(
        "complimentary_plan must be true or false, not 'maybe'"
    )


@pytest.mark.parametrize(
    ("products", "payments", "reason"),
    [
        ("Course; course", "paid; paid", "the product 'course' is named twice"),
        ("Course", "paid; free", "2 payment types for 1 product"),
        ("", "paid", "a payment type without a product"),
        ("A; B; C", "paid; free", "2 payment types for 3 products"),
        ("Course", "gold", "unknown payment type 'gold' in payment_types (paid, free, comped)"),
        ("A;;B", "", "an empty product name in products"),
        ("x" * 201, "", "products: product is longer than 200 characters"),
    ],
)
def test_bad_membership_cells_make_the_row_invalid(
    products: str, payments: str, reason: str
) -> None:
    got = parse(["email", "products", "payment_types"], ["a@x.org", products, payments])
    assert isinstance(got, Invalid) and got.reason.startswith(reason)


def test_complimentary_plan_contradicting_the_payment_type_is_invalid() -> None:
    got = parse(["email", "product", "payment_type", "complimentary_plan"], ["a", "A", "paid", "1"])
    assert got == Invalid("complimentary_plan is true but the payment type is not comped")


MEMBERSHIPS = (
    '[{"product":"Course","payment_type":"paid","status":"active",'
    '"started":"2024-01-31T09:30:00Z","expires":null,"cancelled":null},'
    '{"product":"=Retreat; 2024","payment_type":"comped","status":"expired",'
    '"started":"2023-01-01T00:00:00Z","expires":"2023-12-31T00:00:00Z",'
    '"cancelled":"2023-06-01T12:00:00Z"}]'
)


def test_the_lossless_memberships_column() -> None:
    header = ["email", "products", "payment_types", "memberships"]
    got = parse(header, ["a@x.org", "Course; =Retreat; 2024", "paid; comped", MEMBERSHIPS])
    # the JSON is the source (a "; " inside a product name is no problem there)
    assert got == (
        MembershipSpec("Course", PAID, datetime(2024, 1, 31, 9, 30), None, None, Status.ACTIVE),
        MembershipSpec(
            "=Retreat; 2024",
            COMPED,
            datetime(2023, 1, 1),
            datetime(2023, 12, 31),
            datetime(2023, 6, 1, 12),
            Status.EXPIRED,
        ),
    )
    # products and payment types left empty: the JSON alone
    assert got == parse(header, ["a@x.org", "", "", MEMBERSHIPS])
    # an edited products or payment_types cell that no longer agrees: refused
    assert parse(header, ["a@x.org", "Course", "paid", MEMBERSHIPS]) == Invalid(
        "products / payment_types and memberships name different memberships"
    )
    edited = ["a@x.org", "Course; =Retreat; 2024", "paid; free", MEMBERSHIPS]
    assert isinstance(parse(header, edited), Invalid)
    # listed in another order, a "; " inside a name cannot be told apart: refused
    reordered = ["a@x.org", "=Retreat; 2024; Course", "comped; paid", MEMBERSHIPS]
    assert isinstance(parse(header, reordered), Invalid)
    # without such names, another order (a hand-made file) is the same memberships
    simple = MEMBERSHIPS.replace("=Retreat; 2024", "Retreat")
    assert parse(header, ["a@x.org", "Retreat; Course", "comped; paid", simple]) == parse(
        header, ["a@x.org", "", "", simple]
    )


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("{", "memberships is not the JSON list session-tui writes"),
        ('{"product":"A"}', "memberships is not the JSON list session-tui writes"),
        ('[{"payment_type":"paid"}]', "memberships: every membership needs a product name"),
        ('[{"product":"A","payment_type":"gold"}]', "unknown payment type 'gold' in memberships"),
        ('[{"product":"A","payment_type":"paid","started":"soon"}]', "'started' is not a date"),
        ('[{"product":"A","payment_type":"paid","expires":"0001-01-01"}]', "'expires' is not a"),
        ('[{"product":"A","payment_type":"paid","status":"gone"}]', "unknown status 'gone'"),
        ('[{"product":"A","payment_type":"paid","colour":"red"}]', "unknown key 'colour'"),
        (
            '[{"product":"A","payment_type":"paid"},{"product":"a","payment_type":"free"}]',
            "the product 'a' is named twice",
        ),
    ],
)
def test_bad_memberships_cells(cell: str, reason: str) -> None:
    got = parse(["email", "memberships"], ["a@x.org", cell])
    assert isinstance(got, Invalid) and reason in got.reason


def test_moments() -> None:
    assert parse_moment("2024-01-31T09:30:00Z") == datetime(2024, 1, 31, 9, 30)
    assert parse_moment("2024-01-31T11:30:00+02:00") == datetime(2024, 1, 31, 9, 30)
    assert parse_moment("2024-01-31") == datetime(2024, 1, 31)
    with pytest.raises(ValueError):
        parse_moment("9999-12-31")


def test_no_membership_columns() -> None:
    cells = MembershipCells(auto_mapping(["email", "name"]))
    assert not cells.any and cells.parse(["a@x.org", "Ann"]) == ()
    assert MembershipCells(auto_mapping(["email", "tiers"])).any
