"""The WSGI application gunicorn's workers serve: `kiosk province serve` starts them."""

from kiosk.province.server.setup import configure_from_env

configure_from_env()

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after the settings)

application = get_wsgi_application()
