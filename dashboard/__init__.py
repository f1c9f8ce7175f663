"""Eslabón dashboard: metric functions, chart builders, reports and the Streamlit app."""
