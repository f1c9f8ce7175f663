"""`python -m dashboard.report ...` (also `eslabon-report`): see dashboard/report/cli.py."""

import sys

from dashboard.report.cli import main

sys.exit(main())
