"""Who may see what: the login pages, an account's role in the header's links, and the
view decorators that check it. Logins are throttled by django-axes (settings in
kiosk/province/server/setup.py), which asks client_address() who is knocking."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

BOARD_ROLES = ("admin", "technician")


def client_address(request: HttpRequest) -> str:
    """The officer's address for login throttling: nginx's last X-Forwarded-For hop when the
    request came through it (gunicorn listens on loopback only), else the peer."""
    peer = request.META.get("REMOTE_ADDR", "")
    if peer in ("127.0.0.1", "::1"):
        hop = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if hop:
            return hop[:64]
    return peer


def role(user) -> str:
    if user.is_superuser:
        return "admin"
    return getattr(getattr(user, "profile", None), "role", "")


def nav(request: HttpRequest) -> dict[str, str]:
    """The account's role for the header's links (a template context processor)."""
    user = getattr(request, "user", None)
    return {"nav_role": role(user) if user is not None and user.is_authenticated else ""}


def for_roles(*roles: str):
    """Logged in, and with one of roles; anyone else gets 403."""

    def wrap(view):
        @login_required
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs):
            if role(request.user) not in roles:
                return HttpResponseForbidden("Tài khoản này không được xem trang này.")
            return view(request, *args, **kwargs)

        return checked

    return wrap


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    if role(request.user) in ("admin", "approver", "author"):
        return redirect("bulletins")
    return redirect("fleet" if role(request.user) in BOARD_ROLES else "plays")


login = auth_views.LoginView.as_view(template_name="accounts/login.html")
logout = auth_views.LogoutView.as_view()
