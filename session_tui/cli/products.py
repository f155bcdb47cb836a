"""`session-tui products list | add NAME | rename OLD NEW | archive NAME | unarchive NAME`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from session_tui.cli.commands import NAME, RENAME, Command, CommandGroup, Handler
from session_tui.cli.common import CliError, open_db, print_result, print_rows
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


def run_list(args: argparse.Namespace) -> int:
    repo = _repo(args)
    try:
        products = repo.all()
    finally:
        repo.db.dispose()
    return print_rows(
        args,
        products,
        product_json,
        lambda p: {
            "name": p.name,
            "active": p.active_members,
            "total": p.total_members,
            "archived": "archived" if p.archived else "",
        },
        ["name", "active", "total", "archived"],
    )


Change = Callable[[ProductsRepository, argparse.Namespace], ProductRow]


def _change(verb: str, change: Change) -> Handler:
    """The handler of a command that makes `change` and says it was done (`verb`)."""

    def run(args: argparse.Namespace) -> int:
        repo = _repo(args)
        try:
            row = change(repo, args)
            # Re-read with member counts for the JSON output.
            full = next((p for p in repo.all() if p.id == row.id), row)
            return print_result(args, product_json(full), f"{verb} product “{full.name}”")
        except ValidationError as exc:
            raise CliError(exc.message) from exc
        finally:
            repo.db.dispose()

    return run


run_add = _change("added", lambda repo, args: repo.add(args.name))
run_rename = _change("renamed to", lambda repo, args: repo.rename(args.old, args.new))
run_archive = _change("archived", lambda repo, args: repo.archive(args.name))
run_unarchive = _change("unarchived", lambda repo, args: repo.unarchive(args.name))


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
            Command("rename", run_rename, "rename a product", RENAME),
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
