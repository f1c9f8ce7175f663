"""Streamlit pages of the dashboard (one file per page) and their shared helpers."""
