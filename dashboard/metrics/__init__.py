"""Metric functions: SQL through SQLAlchemy, pandas only to shape results. No Streamlit here."""
