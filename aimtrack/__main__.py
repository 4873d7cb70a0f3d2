from aimtrack.cli import main

raise SystemExit(main())
