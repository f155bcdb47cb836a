"""`python -m session_tui.bench.memprobe URL`: peak memory of the app on one database.

Runs in its own process (one per size, so that sizes don't contaminate each
other): opens the app headless on URL, goes through a short session (End,
Home, page downs, a few searches; see `ui.memory_session`) and prints
`{"peak_rss_mb": …}` -- the process's peak resident set size: VmHWM from
/proc/self/status (ru_maxrss is no good here: Linux carries it over from the
parent across fork+exec, so every child would report the benchmark's own peak).
Exit code 3: the app has not been built yet.

`python -m session_tui.bench.memprobe delete-undo URL N`: the app's resident
memory around a delete of N contacts (every 10th) and its undo, done in the app
as the Contacts screen does them (the contacts selected first, the deleting worker
thread, the undo stack, the table's reload; the confirmation dialog left out), printed as
`{"before": MB, "deleted": MB, "after": MB, "peak": MB}` (VmRSS, VmHWM).
"""

from __future__ import annotations

import json
import resource
import sys


def main(argv: list[str]) -> int:
    from session_tui.bench import ui
    from session_tui.bench.context import NotBuilt

    if len(argv) == 3 and argv[0] == "delete-undo":
        try:
            figures = ui.run(delete_undo_session(argv[1], int(argv[2])))
        except NotBuilt as exc:
            print(exc, file=sys.stderr)
            return 3
        print(json.dumps(figures))
        return 0
    if len(argv) != 1:
        print("usage: python -m session_tui.bench.memprobe URL", file=sys.stderr)
        return 2
    try:
        ui.run(ui.memory_session(argv[0]))
    except NotBuilt as exc:
        print(exc, file=sys.stderr)
        return 3
    print(json.dumps({"peak_rss_mb": round(peak_rss_kib() / 1024, 1)}))
    return 0


def rss_kib() -> float:
    """The process's resident set size now (VmRSS), in KiB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    return 0.0


async def delete_undo_session(url: str, n: int) -> dict[str, float]:
    """Delete n contacts in the running app and undo it; RSS (MB) along the way."""
    import asyncio
    import sqlite3

    from textual.screen import Screen

    from session_tui.bench import ui
    from session_tui.bench.context import NotBuilt
    from session_tui.bench.raw import spread_contact_ids

    try:
        from session_tui.data.deletion import delete_contacts
        from session_tui.ui.context import session
        from session_tui.ui.screens.contact_actions import undo_last
        from session_tui.ui.undo import Deletion
    except ImportError as exc:
        raise NotBuilt(str(exc)) from exc
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        ids = spread_contact_ids(conn, n)
    finally:
        conn.close()
    mb: dict[str, float] = {}
    async with ui.running_app(url) as run:
        table = run.table
        # The contacts are selected first, as someone deleting many does (the undo
        # selects them again): the selection is in every figure, "before" included.
        table.select_ids(ids)
        await run.settle()
        mb["before"] = rss_kib() / 1024
        ctx = session(run.app.screen)
        result = await asyncio.to_thread(delete_contacts, ctx.db, ids)
        ctx.undo.push(Deletion(result, was_selection=True))
        table.discard_ids(result.ids)
        table.reload()
        await run.settle()
        mb["deleted"] = rss_kib() / 1024
        screen: Screen[None] = table.screen
        await undo_last(screen, table)
        await run.settle()
        if len(ctx.undo):
            raise RuntimeError("the undo did not run")
        await asyncio.sleep(0.5)
        mb["after"] = rss_kib() / 1024
    result.backup_path.unlink(missing_ok=True)
    mb["peak"] = peak_rss_kib() / 1024
    return {k: round(v, 1) for k, v in mb.items()}


def peak_rss_kib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])  # kB
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux, B on macOS


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
