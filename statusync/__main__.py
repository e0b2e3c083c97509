from statusync.cli import main

raise SystemExit(main())
