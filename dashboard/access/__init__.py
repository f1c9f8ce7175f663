"""Access control (no streamlit): roles and permissions, the auth file and its CLI, the
password check, signing keys, downloads for signed-in browsers, allowed Host names."""
