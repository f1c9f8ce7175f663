"""The Streamlit side of the dashboard: one module per page (`render()` lays out, `page()`
runs it) and the modules every page shares, by concern: frame (the run around a page),
registry (the page list), sidebar and url_state (the view), database and cache (the served
engine and cached metric calls), dispatch (a page's role check and its error / empty
states), access_gate and sign_in (who is signed in), sample (loading the sample data)."""
