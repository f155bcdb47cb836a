"""Command line of the benchmark (see the package docstring)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

DEFAULT_WORKDIR = Path("/tmp/session-tui-bench")
FULL_SIZES = (1_000, 1_000_000)
QUICK_SIZES = (1_000, 100_000)


def _sizes(text: str) -> tuple[int, int]:
    try:
        small, large = (int(part.replace("_", "")) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected SMALL,LARGE, e.g. 200,2000") from None
    if not 0 < small < large:
        raise argparse.ArgumentTypeError("expected 0 < SMALL < LARGE")
    return small, large


def build_parser() -> argparse.ArgumentParser:
    from session_tui.bench.figures import FIGURES

    keys = ", ".join(spec.key for spec in FIGURES)
    p = argparse.ArgumentParser(
        prog="python -m session_tui.bench",
        description=(
            "Measure session-tui at 1,000,000 contacts next to its baselines, in one run. "
            "One line per figure on stdout, then 'N of M targets met'; details on stderr."
        ),
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick", action="store_true", help="100,000 contacts instead of 1,000,000 (< 2 min)"
    )
    mode.add_argument(
        "--sizes",
        type=_sizes,
        metavar="SMALL,LARGE",
        help="the baseline size and the measured size, e.g. 200,2000 for a smoke run",
    )
    p.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this figure (repeatable): {keys}, or a figure line's name",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get("SESSION_TUI_BENCH_DIR", DEFAULT_WORKDIR)),
        help=f"where the cached databases and scratch files go (default {DEFAULT_WORKDIR})",
    )
    p.add_argument("--seed", type=int, default=1, help="demo data seed (default 1)")
    p.add_argument(
        "--repeats", type=int, default=None, help="repetitions of the repeated figures (default 5)"
    )
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure PostgreSQL (the pg_* figures) on this server, where databases "
        "may be created (default: $SESSION_TUI_BENCH_POSTGRES)",
    )
    p.add_argument("--quiet", action="store_true", help="no '# …' progress lines on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.sizes:
        small, large = args.sizes
    elif args.quick:
        small, large = QUICK_SIZES
    else:
        small, large = FULL_SIZES
    repeats = args.repeats or (2 if args.sizes else 5)
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    # Backups and any other app files go to the work directory, never to the user's data.
    os.environ["SESSION_TUI_DATA_DIR"] = str(workdir / "data")
    os.environ.pop("SESSION_TUI_DB", None)
    if args.postgres:
        os.environ["SESSION_TUI_BENCH_POSTGRES"] = args.postgres

    from session_tui.bench.context import Context, NotBuilt
    from session_tui.bench.figures import FIGURES
    from session_tui.bench.report import Figure, summary_line

    specs = list(FIGURES)
    if args.only:
        wanted = {name.lower() for name in args.only}
        specs = [s for s in FIGURES if s.key in wanted or wanted & set(s.names)]
        if not specs:
            known = ", ".join(s.key for s in FIGURES)
            print(f"error: unknown figure {', '.join(args.only)} (known: {known})", file=sys.stderr)
            return 2
    ctx = Context(
        workdir,
        small,
        large,
        seed=args.seed,
        repeats=repeats,
        verbose=not args.quiet,
        smoke=bool(args.sizes),
        rounds=1 if args.sizes or args.quick else 2,
    )
    ctx.log(
        f"session-tui benchmark: {large:,} contacts (baseline size {small:,}), seed {args.seed}, "
        f"python {platform.python_version()}, {os.cpu_count()} cpus, workdir {workdir}"
    )
    started = time.perf_counter()
    results: list[Figure] = []
    for spec in specs:
        t0 = time.perf_counter()
        try:
            figures = spec.run(ctx)
        except NotBuilt:
            figures = [Figure(name, skip="not built yet") for name in spec.names]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the rest
            ctx.log(f"{spec.key} failed: {type(exc).__name__}: {exc}")
            if os.environ.get("SESSION_TUI_BENCH_TRACEBACK"):
                import traceback

                traceback.print_exc()
            figures = [Figure(name, error=f"{type(exc).__name__}: {exc}") for name in spec.names]
        ctx.log(f"{spec.key} took {time.perf_counter() - t0:.1f}s")
        for figure in figures:
            print(figure.line(), flush=True)
        results.extend(figures)
    ctx.log(f"total {time.perf_counter() - started:.1f}s")
    print(summary_line(results), flush=True)
    # Missing a target is a result; a figure that crashed is a failure of the script.
    return 1 if any(f.error is not None for f in results) else 0
