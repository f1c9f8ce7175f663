"""Eslabón's Streamlit entry point: `streamlit run dashboard/app.py` (or dashboard/serve.py,
which serves this script with the calendar URL and the access middleware).

Streamlit runs this file on every interaction; everything it does lives in
dashboard/views/frame.py.
"""

from dashboard.views.frame import main

main()
