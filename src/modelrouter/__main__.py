from modelrouter.cli import main

raise SystemExit(main())
