"""Realistic demo data: contacts from many cultures, products, memberships, history.

Bulk inserts (the raw DBAPI cursor's executemany on SQLite, COPY on PostgreSQL),
never ORM objects one by one: a million contacts generate in well under two minutes.
One bulk transaction (`sqlite_bulk.bulk_write`): on SQLite the FTS5 insert trigger
is paused for the load and the search index filled once at the end, all inside
the same transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from session_tui.data.clock import FAR_FUTURE, utcnow
from session_tui.data.collation import name_key, search_text
from session_tui.data.db import Database
from session_tui.data.sqlite_bulk import INSERT, LOAD_CACHE_KIB, BulkWrite, bulk_write
from session_tui.data.tables import contact_t, event_t, membership_t, product_t

# (display, ascii handle for the email address)
FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Ann", "ann"),
    ("Anna", "anna"),
    ("Ben", "ben"),
    ("Chloé", "chloe"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("María José", "mariajose"),
    ("Jean-Luc", "jeanluc"),
    ("Siobhán", "siobhan"),
    ("Seán", "sean"),
    ("Björn", "bjorn"),
    ("Søren", "soren"),
    ("Åsa", "asa"),
    ("Łukasz", "lukasz"),
    ("Małgorzata", "malgorzata"),
    ("Jiří", "jiri"),
    ("Zoltán", "zoltan"),
    ("Ayşe", "ayse"),
    ("Mehmet", "mehmet"),
    ("Fatima", "fatima"),
    ("Mohammed", "mohammed"),
    ("Aisha", "aisha"),
    ("Olumide", "olumide"),
    ("Chiamaka", "chiamaka"),
    ("Kwame", "kwame"),
    ("Thandiwe", "thandiwe"),
    ("Priya", "priya"),
    ("Arjun", "arjun"),
    ("Ananya", "ananya"),
    ("Rahul", "rahul"),
    ("Wei", "wei"),
    ("Mei", "mei"),
    ("Hiroshi", "hiroshi"),
    ("Yuki", "yuki"),
    ("Min-jun", "minjun"),
    ("Seo-yeon", "seoyeon"),
    ("Nguyễn Thị", "thi"),
    ("Linh", "linh"),
    ("Olga", "olga"),
    ("Dmitri", "dmitri"),
    ("Giulia", "giulia"),
    ("Francesco", "francesco"),
    ("Inês", "ines"),
    ("João", "joao"),
    ("Camille", "camille"),
    ("Léa", "lea"),
    ("Hannah", "hannah"),
    ("Lukas", "lukas"),
    ("Emma", "emma"),
    ("Liam", "liam"),
    ("Olivia", "olivia"),
    ("Noah", "noah"),
    ("Sophia", "sophia"),
    ("Mateo", "mateo"),
    ("Valentina", "valentina"),
    ("Santiago", "santiago"),
    ("Amara", "amara"),
    ("Kai", "kai"),
    ("Aroha", "aroha"),
    ("Tane", "tane"),
    ("Sarah", "sarah"),
    ("David", "david"),
    ("Yael", "yael"),
    ("Omar", "omar"),
    ("Layla", "layla"),
    ("Ingrid", "ingrid"),
    ("Nils", "nils"),
    ("Мария", "maria"),
    ("Иван", "ivan"),
    ("李", "li"),
    ("王芳", "wangfang"),
    ("さくら", "sakura"),
    ("지민", "jimin"),
    ("محمد", "muhammad"),
    ("שרה", "sara"),
    ("आदित्य", "aditya"),
    ("Ελένη", "eleni"),
    ("Νίκος", "nikos"),
)
LAST_NAMES: tuple[tuple[str, str], ...] = (
    ("Smith", "smith"),
    ("O'Brien", "obrien"),
    ("O'Connor", "oconnor"),
    ("McAllister", "mcallister"),
    ("Müller", "muller"),
    ("Schröder", "schroder"),
    ("García", "garcia"),
    ("Martínez", "martinez"),
    ("Núñez", "nunez"),
    ("Dupont", "dupont"),
    ("Lefèvre", "lefevre"),
    ("Smith-Jones", "smithjones"),
    ("van der Berg", "vanderberg"),
    ("de la Cruz", "delacruz"),
    ("Kowalski", "kowalski"),
    ("Nowak", "nowak"),
    ("Novák", "novak"),
    ("Horváth", "horvath"),
    ("Yılmaz", "yilmaz"),
    ("Öztürk", "ozturk"),
    ("Al-Farsi", "alfarsi"),
    ("Haddad", "haddad"),
    ("Okafor", "okafor"),
    ("Adeyemi", "adeyemi"),
    ("Mensah", "mensah"),
    ("Ndlovu", "ndlovu"),
    ("Patel", "patel"),
    ("Sharma", "sharma"),
    ("Iyer", "iyer"),
    ("Chen", "chen"),
    ("Wang", "wang"),
    ("Tanaka", "tanaka"),
    ("Satō", "sato"),
    ("Kim", "kim"),
    ("Park", "park"),
    ("Nguyễn", "nguyen"),
    ("Trần", "tran"),
    ("Ivanova", "ivanova"),
    ("Petrov", "petrov"),
    ("Rossi", "rossi"),
    ("Bianchi", "bianchi"),
    ("Silva", "silva"),
    ("Gonçalves", "goncalves"),
    ("Andersen", "andersen"),
    ("Johansson", "johansson"),
    ("Nieminen", "nieminen"),
    ("Brown", "brown"),
    ("Wilson", "wilson"),
    ("Taylor", "taylor"),
    ("Ngata", "ngata"),
    ("Cohen", "cohen"),
    ("Levi", "levi"),
    ("Jansen", "jansen"),
    ("Papadopoulos", "papadopoulos"),
    ("Иванов", "ivanov"),
    ("张", "zhang"),
    ("佐藤", "satou"),
    ("김", "gim"),
    ("الهاشمي", "alhashimi"),
    ("כהן", "kohen"),
    ("गुप्ता", "gupta"),
    ("Παππάς", "pappas"),
)
DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "proton.me",
    "gmx.de",
    "web.de",
    "orange.fr",
    "libero.it",
    "yandex.ru",
    "qq.com",
    "naver.com",
    "coachingco.example",
    "acme.example",
    "uni.example.edu",
)
PRODUCTS: tuple[tuple[str, bool], ...] = (
    ("1:1 Coaching", False),
    ("Group Program", False),
    ("Course: Mindset Reset", False),
    ("Community Membership", False),
    ("Leadership Masterclass", False),
    ("Retreat 2024", True),  # archived: keeps its memberships
)


@dataclass(frozen=True)
class DemoSummary:
    contacts: int
    products: int
    memberships: int
    events: int


def _ensure_products(conn: Any, now: datetime) -> dict[str, int]:
    existing = {
        name.lower(): pid for pid, name in conn.execute(select(product_t.c.id, product_t.c.name))
    }
    for name, archived in PRODUCTS:
        if name.lower() not in existing:
            res = conn.execute(
                product_t.insert().values(
                    name=name, archived=archived, created_at=now - timedelta(days=1200)
                )
            )
            existing[name.lower()] = res.inserted_primary_key[0]
    return {name: existing[name.lower()] for name, _ in PRODUCTS}


def _plans(rng: random.Random, product_ids: dict[str, int]) -> list[tuple[int, int]]:
    """Which products a contact has: (product_id, weight)."""
    return [(pid, i) for i, pid in enumerate(product_ids.values())]


def generate_rows(
    start_id: int,
    count: int,
    product_ids: dict[str, int],
    now: datetime,
    seed: int,
    start_membership_id: int,
    start_event_id: int,
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Yield (contact row, membership rows, event rows) per contact, deterministically."""
    rng = random.Random(seed)
    pids = list(product_ids.values())
    weights = [30, 20, 25, 35, 10, 6][: len(pids)]
    mid = start_membership_id
    eid = start_event_id
    actors = ("coach", "admin", "import", "sam")
    for n in range(count):
        cid = start_id + n
        first, first_a = rng.choice(FIRST_NAMES)
        last, last_a = rng.choice(LAST_NAMES)
        domain = rng.choice(DOMAINS)
        email = f"{first_a}.{last_a}.{cid}@{domain}"
        created = now - timedelta(days=rng.randint(0, 3 * 365), seconds=rng.randint(0, 86399))
        memberships: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        active_until: datetime | None = None
        k = rng.choices((0, 1, 1, 1, 2, 2, 3), k=1)[0]
        chosen = set()
        for _ in range(k):
            chosen.add(rng.choices(pids, weights=weights, k=1)[0])
        for pid in sorted(chosen):
            started = created + timedelta(days=rng.randint(0, max(0, (now - created).days)))
            payment = rng.choices(("paid", "free", "comped"), weights=(70, 20, 10), k=1)[0]
            r = rng.random()
            expires: datetime | None
            if r < 0.25:
                expires = None  # never expires
            elif r < 0.6:
                expires = started + timedelta(days=365)
            else:
                expires = started + timedelta(days=rng.choice((30, 90, 180)))
            cancelled: datetime | None = None
            actor = rng.choice(actors)
            events.append((eid, mid, started, "granted", f"{payment}", actor))
            eid += 1
            if expires is not None and rng.random() < 0.2 and expires < now:
                old = expires
                expires = expires + timedelta(days=rng.choice((30, 90, 365)))
                events.append(
                    (
                        eid,
                        mid,
                        old - timedelta(days=3),
                        "extended",
                        f"expires {old:%Y-%m-%d} -> {expires:%Y-%m-%d}",
                        actor,
                    )
                )
                eid += 1
            if rng.random() < 0.08:
                new_payment = rng.choice([p for p in ("paid", "free", "comped") if p != payment])
                at = started + timedelta(days=rng.randint(1, 60))
                if at < now:
                    events.append(
                        (eid, mid, at, "payment_changed", f"{payment} -> {new_payment}", actor)
                    )
                    eid += 1
                    payment = new_payment
            if rng.random() < 0.1:
                at = started + timedelta(days=rng.randint(1, 200))
                if at < now and (expires is None or at < expires):
                    cancelled = at
                    events.append((eid, mid, at, "cancelled", "", actor))
                    eid += 1
            end = cancelled or expires or FAR_FUTURE
            active_until = end if active_until is None else max(active_until, end)
            memberships.append((mid, cid, pid, payment, started, expires, cancelled))
            mid += 1
        derived = (name_key(first, last), search_text(first, last, email))
        contact = (cid, email, first, last, created, created, 1, active_until, *derived)
        yield contact, memberships, events


CONTACT_COLS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "created_at",
    "updated_at",
    "version",
    "active_until",
    "name_key",
    "search_text",
)
MEMBERSHIP_COLS = (
    "id",
    "contact_id",
    "product_id",
    "payment_type",
    "started_at",
    "expires_at",
    "cancelled_at",
)
EVENT_COLS = ("id", "membership_id", "at", "kind", "detail", "actor")


def _next_ids(conn: Any) -> tuple[int, int, int]:
    def nxt(table: Any) -> int:
        return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1

    return nxt(contact_t), nxt(membership_t), nxt(event_t)


def generate_demo(
    db: Database,
    contacts: int = 2000,
    *,
    seed: int = 0,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 20_000,
) -> DemoSummary:
    """Add `contacts` generated contacts (with memberships and history) to `db`.

    Everything happens in one transaction. `progress(done, total)` is called per batch.
    """
    if contacts < 0:
        raise ValueError("the number of contacts cannot be negative")
    now = now or utcnow()
    n_members = n_events = 0
    with bulk_write(db, pause=(INSERT,), cache_kib=LOAD_CACHE_KIB) as bulk:
        product_ids = _ensure_products(bulk.conn, now)
        cid, mid, eid = _next_ids(bulk.conn)
        writer = _SqliteWriter(bulk) if db.is_sqlite else _PostgresWriter(bulk)
        buf_c: list[tuple[Any, ...]] = []
        buf_m: list[tuple[Any, ...]] = []
        buf_e: list[tuple[Any, ...]] = []
        done = 0
        for contact, ms, evs in generate_rows(cid, contacts, product_ids, now, seed, mid, eid):
            buf_c.append(contact)
            buf_m.extend(ms)
            buf_e.extend(evs)
            if len(buf_c) >= batch:
                writer.write(buf_c, buf_m, buf_e)
                done += len(buf_c)
                n_members += len(buf_m)
                n_events += len(buf_e)
                buf_c, buf_m, buf_e = [], [], []
                if progress:
                    progress(done, contacts)
        if buf_c:
            writer.write(buf_c, buf_m, buf_e)
            done += len(buf_c)
            n_members += len(buf_m)
            n_events += len(buf_e)
        writer.finish(cid)
        bulk.commit()
        if progress:
            progress(done, contacts)
    db.analyze(done)  # PostgreSQL: statistics for the planner after the bulk load
    return DemoSummary(contacts, len(product_ids), n_members, n_events)


class _SqliteWriter:
    def __init__(self, bulk: BulkWrite) -> None:
        self.bulk = bulk
        self.cur = bulk.cursor()

    def write(self, cs: list[Any], ms: list[Any], es: list[Any]) -> None:
        def ins(table: str, cols: tuple[str, ...], rows: list[Any]) -> None:
            if rows:
                marks = ",".join("?" * len(cols))
                self.cur.executemany(
                    f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
                    [tuple(_sqlite_value(v) for v in r) for r in rows],
                )

        ins("contact", CONTACT_COLS, cs)
        ins("membership", MEMBERSHIP_COLS, ms)
        ins("membership_event", EVENT_COLS, es)

    def finish(self, first_new_id: int) -> None:
        self.bulk.index_from(first_new_id)


def _sqlite_value(v: Any) -> Any:
    # Same text format SQLAlchemy's SQLite DateTime type stores and parses.
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    return v


class _PostgresWriter:
    def __init__(self, bulk: BulkWrite) -> None:
        self.bulk = bulk

    def write(self, cs: list[Any], ms: list[Any], es: list[Any]) -> None:
        with self.bulk.cursor() as cur:
            for table, cols, rows in (
                ("contact", CONTACT_COLS, cs),
                ("membership", MEMBERSHIP_COLS, ms),
                ("membership_event", EVENT_COLS, es),
            ):
                if not rows:
                    continue
                with cur.copy(f"COPY {table} ({','.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)

    def finish(self, first_new_id: int) -> None:
        with self.bulk.cursor() as cur:
            for table in ("contact", "membership", "membership_event"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
