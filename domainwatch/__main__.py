"""Allow `python -m domainwatch`."""

from domainwatch.cli.main import main

raise SystemExit(main())
