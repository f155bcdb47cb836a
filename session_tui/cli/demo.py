"""`session-tui demo [--contacts N]`: fill a database with realistic generated data."""

from __future__ import annotations

import argparse
import sys
import time

from session_tui.cli.commands import Argument, Command
from session_tui.cli.common import CliError, open_db, print_json, wants_json


def run(args: argparse.Namespace) -> int:
    from session_tui.data.demo import generate_demo

    if args.contacts < 0:
        raise CliError("--contacts must be 0 or more")
    db = open_db(args)
    seed = args.seed if args.seed is not None else int(time.time())
    quiet = wants_json(args) or not sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if not quiet:
            print(f"\r{done:,} / {total:,} contacts", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    try:
        summary = generate_demo(db, args.contacts, seed=seed, progress=progress)
    finally:
        db.dispose()
    elapsed = time.perf_counter() - started
    if not quiet:
        print(file=sys.stderr)
    if wants_json(args):
        print_json({**summary.__dict__, "seconds": round(elapsed, 2)})
    else:
        print(
            f"added {summary.contacts:,} contacts, {summary.memberships:,} memberships, "
            f"{summary.events:,} history events ({summary.products} products) "
            f"in {elapsed:.1f}s"
        )
    return 0


COMMANDS = [
    Command(
        "demo",
        run,
        "fill a database with realistic generated contacts, products, memberships and history",
        [
            Argument(
                "--contacts",
                type=int,
                default=2000,
                metavar="N",
                help="how many contacts to add (default 2000)",
            ),
            Argument("--seed", type=int, default=None, help="random seed (default: random)"),
        ],
    )
]
