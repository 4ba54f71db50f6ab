"""Allow `python -m domainwatch`."""

from domainwatch.cli import main

raise SystemExit(main())
