"""What runs on the board: sync, player, health server, heartbeat, push, hardware.

Nothing here imports the province server's dependencies (Django, gunicorn, psycopg)."""
