"""Accounts: roles, channels, API tokens, and who may see what.

A Django app of the province server (kiosk.province.server)."""
