from session_tui.bench.cli import main

raise SystemExit(main())
