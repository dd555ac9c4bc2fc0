"""`python -m producer`: hands the command line to `producer.cli.main`."""

from producer.cli import main

raise SystemExit(main())
