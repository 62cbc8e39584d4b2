"""The WSGI application gunicorn's workers serve: `kiosk province serve` starts them.

gunicorn runs with --preload, so this module is imported once, in its master, before the
workers are forked: what is made here is shared by every worker."""

from kiosk.province.server.setup import configure_from_env

configure_from_env()

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after the settings)

from kiosk.province.server import refusals  # noqa: E402, F401  (its counts, made pre-fork)

application = get_wsgi_application()
