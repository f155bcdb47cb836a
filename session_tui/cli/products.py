"""`session-tui products list | add NAME | rename OLD NEW | archive NAME | unarchive NAME`."""

from __future__ import annotations

import argparse
from typing import Any

from session_tui.cli.commands import Argument, Command, CommandGroup
from session_tui.cli.common import CliError, open_db, print_json, print_table, wants_json
from session_tui.data.repositories.products import ProductRow, ProductsRepository
from session_tui.data.validation import ValidationError


def product_json(p: ProductRow) -> dict[str, Any]:
    return {
        "name": p.name,
        "archived": p.archived,
        "active_members": p.active_members,
        "total_members": p.total_members,
        "created_at": p.created_at.isoformat(),
    }


def _repo(args: argparse.Namespace) -> ProductsRepository:
    return ProductsRepository(open_db(args))


def _done(args: argparse.Namespace, repo: ProductsRepository, row: ProductRow, verb: str) -> int:
    # Re-read with member counts for the JSON output.
    full = next((p for p in repo.all() if p.id == row.id), row)
    if wants_json(args):
        print_json(product_json(full))
    else:
        print(f"{verb} product “{full.name}”")
    return 0


def run_list(args: argparse.Namespace) -> int:
    repo = _repo(args)
    try:
        products = repo.all()
    finally:
        repo.db.dispose()
    if wants_json(args):
        print_json([product_json(p) for p in products])
        return 0
    print_table(
        (
            {
                "name": p.name,
                "active": p.active_members,
                "total": p.total_members,
                "archived": "archived" if p.archived else "",
            }
            for p in products
        ),
        ["name", "active", "total", "archived"],
    )
    return 0


def _change(args: argparse.Namespace, verb: str, action: Any) -> int:
    repo = _repo(args)
    try:
        row = action(repo)
        return _done(args, repo, row, verb)
    except ValidationError as exc:
        raise CliError(exc.message) from exc
    finally:
        repo.db.dispose()


def run_add(args: argparse.Namespace) -> int:
    return _change(args, "added", lambda r: r.add(args.name))


def run_rename(args: argparse.Namespace) -> int:
    return _change(args, "renamed to", lambda r: r.rename(args.old, args.new))


def run_archive(args: argparse.Namespace) -> int:
    return _change(args, "archived", lambda r: r.archive(args.name))


def run_unarchive(args: argparse.Namespace) -> int:
    return _change(args, "unarchived", lambda r: r.unarchive(args.name))


NAME = Argument("name", metavar="NAME")

COMMANDS = [
    CommandGroup(
        "products",
        "list, add, rename, archive and unarchive products",
        "Products that contacts can have memberships of. Names are unique "
        "ignoring case; an archived product keeps its memberships but is not offered "
        "for new ones.",
        [
            Command("list", run_list, "list products with member counts"),
            Command("add", run_add, "add a product", [NAME]),
            Command(
                "rename",
                run_rename,
                "rename a product",
                [Argument("old", metavar="OLD"), Argument("new", metavar="NEW")],
            ),
            Command(
                "archive",
                run_archive,
                "archive a product (kept with its memberships, not offered for new ones)",
                [NAME],
            ),
            Command("unarchive", run_unarchive, "offer an archived product again", [NAME]),
        ],
    )
]
