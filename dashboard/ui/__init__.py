"""What the dashboard shows people, without streamlit: the URL's view state, ES/EN
formats and strings, the palette."""
