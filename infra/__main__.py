"""`python -m infra`: the command line in `infra.cli`."""

from infra.cli import main

raise SystemExit(main())
