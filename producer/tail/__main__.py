"""`python -m producer.tail`: hands the command line to `producer.tail.cli.main`."""

from producer.tail.cli import main

raise SystemExit(main())
