"""The benchmark: `python -m session_tui.bench [--quick | --sizes S,L] [--only NAME]`.

It generates its own demo databases (cached between runs in the work directory,
keyed by size and seed, regenerated when the schema or the generator changes),
measures every figure next to its baseline in the same run, and prints one line
per figure -- `name: value baseline=… ratio=… target=… PASS|FAIL` -- then
`N of M targets met` (see report.py for the exact format, figures.py for what
each figure measures, ui.py for how the UI is timed). Progress and details go
to stderr as `# …` lines. Speed targets live here only, never in unit tests.
"""
