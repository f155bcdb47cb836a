"""Import writes the memberships a file names, in the import's own transaction, on
SQLite and PostgreSQL: exact dates from our lossless column, history with the
actor `import`, contact status, unknown and archived products, existing contacts
(skipped, or updated with `update_memberships`), invalid membership cells, the
dry run, several batches, and a cancel that leaves nothing behind."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from session_tui.data.clock import utcnow
from session_tui.data.csvio import ImportCancelled, Verdict, import_csv, sniff, write_rejects
from session_tui.data.db import Database
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.memberships.status import expected_active_until
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t, event_t, membership_t, product_t

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def lossless(*items: dict[str, object]) -> str:
    return json.dumps(list(items))


def memberships(db: Database) -> dict[tuple[str, str], tuple[object, ...]]:
    """(email, product) -> (payment type, started, expires, cancelled)."""
    c, m, p = contact_t.c, membership_t.c, product_t.c
    stmt = (
        select(c.email, p.name, m.payment_type, m.started_at, m.expires_at, m.cancelled_at)
        .select_from(membership_t.join(contact_t).join(product_t))
        .order_by(c.email, p.name)
    )
    with db.engine.connect() as conn:
        return {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(stmt)}


def events(db: Database) -> list[tuple[object, ...]]:
    c, p, e = contact_t.c, product_t.c, event_t.c
    stmt = (
        select(c.email, p.name, e.kind, e.at, e.detail, e.actor)
        .select_from(event_t.join(membership_t).join(contact_t).join(product_t))
        .order_by(c.email, p.name, e.id)
    )
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


def active_until_is_right(db: Database) -> bool:
    c = contact_t.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(c.active_until, expected_active_until())).all()
    return all(stored == expected for stored, expected in rows)


def table_count(db: Database, table: Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_lossless_column_gives_exact_memberships_history_and_status(
    db: Database, tmp_path: Path
) -> None:
    products = ProductsRepository(db)
    for name in ("Course", "1:1 Coaching", "Retreat"):
        products.add(name)
    now = utcnow().replace(microsecond=0)
    started = datetime(2024, 3, 1, 9, 30)
    future = (now + timedelta(days=90)).replace(hour=0, minute=0, second=0)
    path = write_csv(
        tmp_path / "export.csv",
        ["email", "first_name", "last_name", "products", "payment_types", "memberships"],
        [
            [
                "ann@example.com",
                "Ann",
                "Lee",
                "Course; 1:1 Coaching",
                "paid; comped",
                lossless(
                    {
                        "product": "Course",
                        "payment_type": "paid",
                        "status": "active",
                        "started": "2024-03-01T09:30:00Z",
                        "expires": None,
                        "cancelled": None,
                    },
                    {
                        "product": "1:1 Coaching",
                        "payment_type": "comped",
                        "status": "active",
                        "started": "2024-03-01T09:30:00Z",
                        "expires": future.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "cancelled": None,
                    },
                ),
            ],
            [
                "bob@example.com",
                "Bob",
                "",
                "Retreat",
                "free",
                lossless(
                    {
                        "product": "Retreat",
                        "payment_type": "free",
                        "status": "expired",
                        "started": "2023-01-01T00:00:00Z",
                        "expires": "2025-01-01T00:00:00Z",
                        "cancelled": "2024-06-01T12:00:00Z",
                    },
                ),
            ],
            ["cy@example.com", "Cy", "", "", "", ""],
        ],
    )
    report = import_csv(db, path)
    assert report.summary() == {
        "added": 3,
        "skipped": 0,
        "duplicates": 0,
        "invalid": 0,
        "memberships_granted": 3,
        "memberships_reactivated": 0,
        "memberships_unchanged": 0,
        "memberships_skipped": 0,
        "products_created": 0,
    }
    assert report.headline() == "added 3 contacts · 3 memberships granted"
    assert memberships(db) == {
        ("ann@example.com", "1:1 Coaching"): ("comped", started, future, None),
        ("ann@example.com", "Course"): ("paid", started, None, None),
        ("bob@example.com", "Retreat"): (
            "free",
            datetime(2023, 1, 1),
            datetime(2025, 1, 1),
            datetime(2024, 6, 1, 12, 0),
        ),
    }
    assert events(db) == [
        (
            "ann@example.com",
            "1:1 Coaching",
            "granted",
            started,
            f"comped, expires {future:%Y-%m-%d}",
            "import",
        ),
        ("ann@example.com", "Course", "granted", started, "paid, never expires", "import"),
        (
            "bob@example.com",
            "Retreat",
            "granted",
            datetime(2023, 1, 1),
            "free, expires 2025-01-01",
            "import",
        ),
        ("bob@example.com", "Retreat", "cancelled", datetime(2024, 6, 1, 12, 0), "", "import"),
    ]
    assert active_until_is_right(db)
    statuses = {m.email: m.status for m in MembershipsRepository(db).all() if m.product != "Course"}
    assert statuses == {"ann@example.com": "active", "bob@example.com": "expired"}


def test_unknown_products_listed_skipped_or_created_and_dry_run_writes_nothing(
    db: Database, tmp_path: Path
) -> None:
    ProductsRepository(db).add("Course")
    path = write_csv(
        tmp_path / "m.csv",
        ["email", "products", "payment_type"],
        [
            ["a@example.com", "Course; Zen Retreat", "paid"],
            ["b@example.com", "zen retreat; Art Club", "comped"],
            ["c@example.com", "course", ""],
        ],
    )
    preview = import_csv(db, path, dry_run=True)
    assert preview.products_to_create == ("Art Club", "Zen Retreat")
    assert (preview.memberships_granted, preview.memberships_skipped) == (2, 3)
    assert preview.headline() == (
        "added 3 contacts · 2 memberships granted · 3 memberships skipped · 2 products to create"
    )
    preview_created = import_csv(db, path, dry_run=True, create_products=True)
    assert (preview_created.memberships_granted, preview_created.memberships_skipped) == (5, 0)
    assert preview_created.products_to_create == ("Art Club", "Zen Retreat")
    assert preview_created.products_created == 0  # a dry run creates nothing
    assert table_count(db, contact_t) == 0 and table_count(db, product_t) == 1
    assert table_count(db, membership_t) == 0 and table_count(db, event_t) == 0

    done = import_csv(db, path)
    assert done.summary() == {**preview.summary()}
    assert set(memberships(db)) == {("a@example.com", "Course"), ("c@example.com", "Course")}
    assert table_count(db, product_t) == 1

    path2 = write_csv(
        tmp_path / "m2.csv",
        ["email", "products", "payment_type"],
        [["d@example.com", "Zen Retreat; Art Club", "free"]],
    )
    created = import_csv(db, path2, create_products=True)
    assert created.products_created == 2 and created.memberships_granted == 2
    assert created.headline() == "added 1 contact · 2 memberships granted · 2 products created"
    assert sorted(ProductsRepository(db).names()) == ["Art Club", "Course", "Zen Retreat"]
    assert memberships(db)[("d@example.com", "Zen Retreat")][0] == "free"


def test_existing_contacts_skipped_by_default_updated_on_request(
    db: Database, tmp_path: Path
) -> None:
    for name in ("Course", "Club", "Retreat"):
        ProductsRepository(db).add(name)
    repo = MembershipsRepository(db)
    repo.grant("old@example.com", "Course", "paid", first_name="Old")
    club = repo.grant("old@example.com", "Club", "paid")
    repo.cancel(club.membership.id)
    before = memberships(db)
    path = write_csv(
        tmp_path / "m.csv",
        ["email", "first_name", "products", "payment_types"],
        [
            ["old@example.com", "Renamed", "Course; Club; Retreat", "comped; comped; free"],
            ["new@example.com", "New", "Course", "paid"],
        ],
    )
    report = import_csv(db, path)
    assert (report.added, report.skipped, report.memberships_granted) == (1, 1, 1)
    assert {k: v for k, v in memberships(db).items() if k[0] == "old@example.com"} == before

    preview = import_csv(db, path, dry_run=True, update_memberships=True)
    updated = import_csv(db, path, update_memberships=True)
    assert preview.summary() == updated.summary()
    assert (updated.added, updated.skipped) == (0, 2)
    assert (
        updated.memberships_granted,
        updated.memberships_reactivated,
        updated.memberships_unchanged,
    ) == (1, 1, 2)  # Retreat new; Club reactivated; Course active (twice: old and new)
    after = memberships(db)
    assert after[("old@example.com", "Club")][0] == "comped"
    assert after[("old@example.com", "Club")][3] is None  # no longer cancelled
    assert after[("old@example.com", "Course")] == before[("old@example.com", "Course")]
    assert after[("old@example.com", "Retreat")][0] == "free"
    club_events = [e for e in events(db) if e[:2] == ("old@example.com", "Club")]
    assert club_events[-1][2] == "reactivated" and club_events[-1][5] == "import"
    assert str(club_events[-1][4]).startswith("paid -> comped, never expires, was cancelled")
    with db.engine.connect() as conn:
        name = conn.execute(
            select(contact_t.c.first_name).where(contact_t.c.email == "old@example.com")
        ).scalar_one()
    assert name == "Old"  # the contact itself is left alone
    assert active_until_is_right(db)


def test_invalid_membership_cells_make_the_row_invalid_and_go_to_rejects(
    db: Database, tmp_path: Path
) -> None:
    ProductsRepository(db).add("Course")
    path = write_csv(
        tmp_path / "bad.csv",
        ["email", "products", "payment_types"],
        [
            ["ok@example.com", "Course", "paid"],
            ["twice@example.com", "Course; course", ""],
            ["more@example.com", "Course", "paid; free"],
            ["weird@example.com", "Course", "gift"],
        ],
    )
    rejects = tmp_path / "rejects.csv"
    report = import_csv(db, path, rejects=rejects)
    assert (report.added, report.invalid, report.memberships_granted) == (1, 3, 1)
    reasons = {r.email: r.reason for r in report.rows if r.verdict is Verdict.INVALID}
    assert reasons == {
        "twice@example.com": "the product 'course' is named twice",
        "more@example.com": "2 payment types for 1 product",
        "weird@example.com": "unknown payment type 'gift' in payment_types (paid, free, comped)",
    }
    rows = list(csv.reader(rejects.open(encoding="utf-8", newline="")))
    assert rows[0] == ["email", "products", "payment_types", "reason"]
    assert [r[0] for r in rows[1:]] == [
        "twice@example.com",
        "more@example.com",
        "weird@example.com",
    ]
    again = tmp_path / "again.csv"
    assert write_rejects(sniff(path), again) == 3
    assert again.read_text(encoding="utf-8") == rejects.read_text(encoding="utf-8")


def test_expiry_not_after_start_is_invalid(db: Database, tmp_path: Path) -> None:
    ProductsRepository(db).add("Course")
    path = write_csv(
        tmp_path / "dates.csv",
        ["email", "memberships"],
        [
            [
                "a@example.com",
                lossless(
                    {
                        "product": "Course",
                        "payment_type": "paid",
                        "started": "2024-02-01T00:00:00Z",
                        "expires": "2024-01-01T00:00:00Z",
                    }
                ),
            ],
            [
                "b@example.com",
                lossless(
                    {"product": "Course", "payment_type": "paid", "expires": "2020-01-01T00:00:00Z"}
                ),
            ],
        ],
    )
    report = import_csv(db, path)
    assert report.invalid == 2 and report.added == 0
    assert "not after it started" in report.rows[0].reason
    assert "gives no start" in report.rows[1].reason


def test_archived_products_are_skipped_with_a_note(db: Database, tmp_path: Path) -> None:
    products = ProductsRepository(db)
    products.add("Old Course")
    products.archive("Old Course")
    path = write_csv(tmp_path / "a.csv", ["email", "product"], [["a@example.com", "old course"]])
    report = import_csv(db, path, create_products=True)
    assert (report.added, report.memberships_skipped, report.products_to_create) == (1, 1, ())
    assert any("archived" in note and "'Old Course'" in note for note in report.notes())
    assert table_count(db, membership_t) == 0


def test_several_batches_repeated_rows_and_ghost_tiers(db: Database, tmp_path: Path) -> None:
    ProductsRepository(db).add("Gold")
    rows = [[f"p{i}@example.com", "Gold, Silver" if i % 2 else "Gold", ""] for i in range(7)]
    rows.insert(3, ["p0@example.com", "Silver", "true"])  # repeated: the first row wins
    path = write_csv(tmp_path / "tiers.csv", ["email", "tiers", "complimentary_plan"], rows)
    report = import_csv(db, path, batch_size=2, create_products=True)
    assert (report.added, report.duplicates) == (7, 1)
    assert report.memberships_granted == 7 + 3
    got = memberships(db)
    assert got[("p0@example.com", "Gold")][0] == "paid"
    assert ("p0@example.com", "Silver") not in got
    assert set(got) == {(f"p{i}@example.com", "Gold") for i in range(7)} | {
        (f"p{i}@example.com", "Silver") for i in (1, 3, 5)
    }
    assert active_until_is_right(db)


def test_cancel_and_errors_leave_no_membership_or_product(db: Database, tmp_path: Path) -> None:
    rows = [[f"p{i}@example.com", "New Product"] for i in range(10)]
    path = write_csv(tmp_path / "c.csv", ["email", "products"], rows)
    calls = 0

    def cancel() -> bool:
        nonlocal calls
        calls += 1
        return calls > 2

    with pytest.raises(ImportCancelled):
        import_csv(db, path, batch_size=3, create_products=True, cancel=cancel)
    for table in (contact_t, product_t, membership_t, event_t):
        assert table_count(db, table) == 0


def test_ghost_fixtures_import_tiers_and_complimentary_plans(db: Database) -> None:
    ProductsRepository(db).add("Coaching Circle")
    tiers = import_csv(db, FIXTURES / "ghost-import-tier.csv", create_products=True)
    assert (tiers.added, tiers.memberships_granted, tiers.products_to_create) == (
        3,
        2,
        ("Inner Circle",),
    )
    comp = import_csv(
        db,
        FIXTURES / "ghost-complimentary.csv",
        update_memberships=True,
        create_products=True,
        comp_product="Coaching Circle",
    )
    assert (comp.skipped, comp.invalid, comp.memberships_granted) == (3, 1, 1)
    assert comp.memberships_unchanged == 1  # ana already has Coaching Circle (paid, active)
    got = memberships(db)
    assert got[("sam@example.net", "Coaching Circle")][0] == "comped"
    assert got[("ana.gomez@example.com", "Coaching Circle")][0] == "paid"
    assert got[("sam@example.net", "Inner Circle")][0] == "paid"
    assert ("li.wei@example.org", "Coaching Circle") not in got
