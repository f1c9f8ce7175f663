"""Eslabón ETL: read commitment and process records, validate them, load them in batches."""
