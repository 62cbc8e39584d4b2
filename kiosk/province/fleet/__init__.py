"""The boards: their heartbeats, status, plays and commands; the fleet API and metrics.

A Django app of the province server (kiosk.province.server)."""
