"""Django's settings module (DJANGO_SETTINGS_MODULE=kiosk.province.server.settings), read
from the PROVINCE.toml that KIOSK_PROVINCE_CONFIG names: a province edits that one file,
never this one. It makes `django-admin check --deploy`, `shell`, `dbshell` and
`makemigrations` work as Django's documentation says (`kiosk province manage` sets both
variables from --config)."""

from kiosk.province.server.setup import config_from_env, django_settings

globals().update(django_settings(config_from_env()))
