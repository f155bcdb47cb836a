"""Small helpers for seeding test databases with plain Core inserts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from typing import Any

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database
from session_tui.data.tables import contact_t, membership_t, product_t

T0 = datetime(2026, 1, 1, 12, 0, 0)


def add_contacts(
    db: Database, people: list[tuple[str, str, str]], created: datetime = T0
) -> list[int]:
    """Insert (email, first, last) rows; returns their ids in order."""
    ids: list[int] = []
    with db.engine.begin() as conn:
        for i, (email, first, last) in enumerate(people):
            res = conn.execute(
                contact_t.insert().values(
                    email=email,
                    first_name=first,
                    last_name=last,
                    created_at=created.replace(second=i % 60),
                    updated_at=created,
                    version=1,
                )
            )
            ids.append(int(res.inserted_primary_key[0]))
    return ids


def add_product(db: Database, name: str, archived: bool = False) -> int:
    with db.engine.begin() as conn:
        res = conn.execute(product_t.insert().values(name=name, archived=archived, created_at=T0))
        return int(res.inserted_primary_key[0])


def add_membership(
    db: Database,
    contact_id: int,
    product_id: int,
    payment: str = "paid",
    expires: datetime | None = None,
    cancelled: datetime | None = None,
    started: datetime = T0,
) -> int:
    """Insert a membership and keep contact.active_until right (the documented rule)."""
    with db.engine.begin() as conn:
        res = conn.execute(
            membership_t.insert().values(
                contact_id=contact_id,
                product_id=product_id,
                payment_type=payment,
                started_at=started,
                expires_at=expires,
                cancelled_at=cancelled,
            )
        )
        end = cancelled or expires or FAR_FUTURE
        current: Any = (
            conn.execute(contact_t.select().where(contact_t.c.id == contact_id)).one().active_until
        )
        new = end if current is None else max(current, end)
        conn.execute(
            contact_t.update().where(contact_t.c.id == contact_id).values(active_until=new)
        )
        return int(res.inserted_primary_key[0])


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    """`python -c code args…` in a child process with piped, text stdout/stderr
    (the crash tests kill such children at their checkpoints)."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def expect_line(child: subprocess.Popen[str], prefix: str) -> str:
    """The child's next line of output, which must start with `prefix` (else the
    assertion shows what it printed and its stderr)."""
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line.startswith(prefix):
        if child.poll() is None:
            child.kill()
        err = child.stderr.read() if child.stderr else ""
        raise AssertionError(f"expected {prefix!r} from the child, got {line!r}; stderr: {err}")
    return line
