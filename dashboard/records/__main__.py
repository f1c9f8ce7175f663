"""`python -m dashboard.records ...` (also `eslabon-records`): see dashboard/records/cli.py."""

import sys

from dashboard.records.cli import main

sys.exit(main())
