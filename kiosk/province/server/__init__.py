"""The province server (SPEC 7): a Django app served by gunicorn. It receives every board's
heartbeats, keeps them in SQLite or PostgreSQL, shows the fleet, and answers the fleet API.

Only `kiosk province` imports this package; the board never does.
"""
