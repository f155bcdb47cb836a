"""`python -m session_tui.bench.memprobe URL`: peak memory of the app on one database.

Runs in its own process (one per size, so that sizes don't contaminate each
other): opens the app headless on URL, goes through a short session (End,
Home, page downs, a few searches; see `ui.memory_session`) and prints
`{"peak_rss_mb": …}` -- the process's peak resident set size (ru_maxrss).
Exit code 3: the app has not been built yet.
"""

from __future__ import annotations

import json
import resource
import sys


def main(argv: list[str]) -> int:
    from session_tui.bench import ui
    from session_tui.bench.context import NotBuilt

    if len(argv) != 1:
        print("usage: python -m session_tui.bench.memprobe URL", file=sys.stderr)
        return 2
    try:
        ui.run(ui.memory_session(argv[0]))
    except NotBuilt as exc:
        print(exc, file=sys.stderr)
        return 3
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"peak_rss_mb": round(peak_kb / 1024, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
