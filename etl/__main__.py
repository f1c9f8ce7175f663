"""`python -m etl ...`: see etl/cli.py."""

import sys

from etl.cli import main

sys.exit(main())
