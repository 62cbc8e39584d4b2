"""Django's settings made from PROVINCE.toml, so a province edits one TOML file and never
a Python settings module.

Two doors to the same settings: `kiosk.province.server.settings`, Django's settings module
(gunicorn's workers, `django-admin`, `kiosk province manage`), which reads the PROVINCE.toml
named by KIOSK_PROVINCE_CONFIG; and configure(), for a process that has already read its
PROVINCE.toml (each `kiosk province` command, the tests)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from kiosk.core.fsutil import atomic_write
from kiosk.province.fleet.heartbeatdoc import MAX_BODY
from kiosk.province.provinceconf import Database, ProvinceConfig, load_province_config

CONFIG_ENV = "KIOSK_PROVINCE_CONFIG"  # how the gunicorn workers find PROVINCE.toml
LOGIN_FAILURES = 5
LOGIN_COOLOFF = timedelta(minutes=15)


def database_settings(db: Database) -> dict[str, Any]:
    if db.engine == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": db.name,
            # WAL lets readers run beside the one writer; synchronous=FULL makes a commit
            # durable before the heartbeat's 2xx, power cut included.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "CONN_MAX_AGE": None,
        }
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db.name,
        "USER": db.user,
        "PASSWORD": db.password,
        "HOST": db.host,
        "PORT": db.port,
        "OPTIONS": dict(db.options),
        # Kept open across requests; no health check (a query per request): a connection
        # that broke fails that one request, the board sends again, the next one reconnects.
        "CONN_MAX_AGE": 600,
    }


def secret_key(path: Path) -> str:
    """The key of sessions and CSRF: made once, kept 0600 beside the data."""
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(48)
        atomic_write(path, key.encode(), mode=0o600)
        return key


def django_settings(config: ProvinceConfig) -> dict[str, Any]:
    return dict(
        DEBUG=False,
        SECRET_KEY=secret_key(config.secret_key_path),
        ALLOWED_HOSTS=list(config.hosts),
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "axes",
            "kiosk.province.accounts",
            "kiosk.province.fleet",
            "kiosk.province.bulletins",
            "kiosk.province.exports",
            "kiosk.province.updates",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "axes.middleware.AxesMiddleware",  # last, as django-axes asks
        ],
        AUTHENTICATION_BACKENDS=[
            "axes.backends.AxesStandaloneBackend",
            "django.contrib.auth.backends.ModelBackend",
        ],
        # Login throttling (django-axes): after LOGIN_FAILURES wrong passwords for one
        # account from one address, that account waits LOGIN_COOLOFF there and only there
        # (SPEC 7.4: nobody elsewhere can lock the approvers out during an emergency);
        # `kiosk province user unlock` lifts it. nginx's limit_req on /login/ slows a flood,
        # many accounts tried from one address included, before it reaches Django.
        AXES_FAILURE_LIMIT=LOGIN_FAILURES,
        AXES_COOLOFF_TIME=LOGIN_COOLOFF,
        AXES_LOCKOUT_PARAMETERS=[["username", "ip_address"]],
        AXES_RESET_ON_SUCCESS=True,
        AXES_CLIENT_IP_CALLABLE="kiosk.province.accounts.views.client_address",
        AXES_LOCKOUT_TEMPLATE="accounts/locked.html",
        AXES_SENSITIVE_PARAMETERS=["password"],
        FILE_UPLOAD_HANDLERS=["kiosk.province.bulletins.uploads.BoundedUploadHandler"],
        FILE_UPLOAD_PERMISSIONS=0o600,
        KIOSK_UPLOADS=config.uploads_path,
        KIOSK_EXPORTS=config.exports_path,
        ROOT_URLCONF="kiosk.province.server.urls",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [Path(__file__).with_name("templates")],  # base.html and parts
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                        "kiosk.province.accounts.views.nav",
                    ]
                },
            }
        ],
        DATABASES={"default": database_settings(config.database)},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LANGUAGE_CODE="vi",
        USE_I18N=True,
        TIME_ZONE=config.timezone,
        USE_TZ=True,
        DATA_UPLOAD_MAX_MEMORY_SIZE=MAX_BODY,
        SESSION_COOKIE_SECURE=config.secure_cookies,
        CSRF_COOKIE_SECURE=config.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SECURE_CONTENT_TYPE_NOSNIFF=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        # TLS is nginx's (nginx-bangtin.conf): it redirects http to https and sends HSTS on
        # every reply, the static site's too, which Django never sees. Django doing either
        # again would double the header, or redirect the loopback requests of a technician.
        SILENCED_SYSTEM_CHECKS=["security.W004", "security.W008"],
        AUTH_PASSWORD_VALIDATORS=[
            {
                "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                "OPTIONS": {"min_length": 10},
            },
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        ],
        LOGIN_URL="/login/",
        LOGIN_REDIRECT_URL="/",
        LOGOUT_REDIRECT_URL="/login/",  # back to the login page (not Django's admin template)
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"stderr": {"class": "logging.StreamHandler"}},
            "root": {"handlers": ["stderr"], "level": "WARNING"},
            # A refused request (401, 413, 400) is counted in /metrics, not logged: a flood
            # of them must not fill the journal. Server errors (5xx) are still logged.
            "loggers": {"django.request": {"level": "ERROR"}},
        },
        KIOSK_PROVINCE=config,
    )


def configure(config: ProvinceConfig) -> None:
    """Once per process, before anything touches Django."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(**django_settings(config))
    django.setup()


def config_from_env() -> ProvinceConfig:
    """The PROVINCE.toml that KIOSK_PROVINCE_CONFIG names (`kiosk province serve` sets it
    for its workers)."""
    from django.core.exceptions import ImproperlyConfigured

    where = os.environ.get(CONFIG_ENV)
    if not where:
        raise ImproperlyConfigured(f"set {CONFIG_ENV} to the path of PROVINCE.toml")
    return load_province_config(Path(where))
