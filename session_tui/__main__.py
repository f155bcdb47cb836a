from session_tui.cli import main

raise SystemExit(main())
