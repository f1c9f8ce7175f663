"""Delivery: the weekly pack to its subscribers and alerts to their channels.

`python -m dashboard.report deliver` runs `dashboard.delivery.run.deliver_due` from cron or a
systemd timer: whatever is due is sent once, every attempt lands in `delivery_log`, and a
failed send stays due for the next run. No streamlit here; the Suscripciones page only
calls these functions.
"""
