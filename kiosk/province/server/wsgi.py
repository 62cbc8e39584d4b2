"""The WSGI application gunicorn's workers serve: `kiosk province serve` starts them, with
KIOSK_PROVINCE_CONFIG naming PROVINCE.toml for the settings module.

gunicorn runs with --preload, so this module is imported once, in its master, before the
workers are forked: what is made here is shared by every worker."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk.province.server.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from kiosk.province.fleet import refusals  # noqa: E402, F401  (its counts, made pre-fork)
