"""`python -m session_tui.bench.memprobe URL`: peak memory of the app on one database.

Runs in its own process (one per size, so that sizes don't contaminate each
other): opens the app headless on URL, goes through a short session (End,
Home, page downs, a few searches; see `ui.memory_session`) and prints
`{"peak_rss_mb": …}` -- the process's peak resident set size: VmHWM from
/proc/self/status (ru_maxrss is no good here: Linux carries it over from the
parent across fork+exec, so every child would report the benchmark's own peak).
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
    print(json.dumps({"peak_rss_mb": round(peak_rss_kib() / 1024, 1)}))
    return 0


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
