"""`python -m dashboard.access ...` (also `eslabon-users`): see dashboard/access/users.py."""

from dashboard.access.users import main

main()
