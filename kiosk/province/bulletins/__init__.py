"""The console: bulletins written, approved and published; imports, reports and the audit log.

A Django app of the province server (kiosk.province.server)."""
