"""Domain services behind the pages and the reports (no streamlit): service tracking,
calendar feeds, the weekly review, drafted notices, signed customer links."""
