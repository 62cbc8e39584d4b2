"""Who may see what: the login pages, an account's role in the header's links, and the
view decorators that check it. Logins are throttled by django-axes (settings in
kiosk/province/server/setup.py), which asks client_address() who is knocking."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kiosk.province.accounts.accountwork import accounts, disable, set_password, unlock
from kiosk.province.accounts.forms import PasswordForm
from kiosk.province.accounts.models import Profile

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


# The admin's page of accounts (SPEC 7.2's user list, unlock, reset-password, disable, as
# the shell has them): each change goes through accountwork, into the audit log.


@require_GET
@for_roles("admin")
def account_list(request: HttpRequest) -> HttpResponse:
    labels = dict(Profile.Role.choices)
    rows = [{"a": a, "role": labels.get(a.role, a.role)} for a in accounts()]
    return render(request, "accounts/accounts.html", {"rows": rows})


def _other_account(request: HttpRequest, name: str):
    user = get_object_or_404(get_user_model(), username=name)
    return None if user.pk == request.user.pk else user


@require_POST
@for_roles("admin")
def account_unlock(request: HttpRequest, name: str) -> HttpResponse:
    user = get_object_or_404(get_user_model(), username=name)
    gone = unlock(user, by=request.user)
    messages.success(request, f"Đã mở khóa đăng nhập cho {name} ({gone} nơi bị khóa).")
    return redirect("accounts")


@require_POST
@for_roles("admin")
def account_disable(request: HttpRequest, name: str) -> HttpResponse:
    user = _other_account(request, name)
    if user is None:
        messages.error(request, "Không tự khóa tài khoản của chính mình.")
        return redirect("accounts")
    tokens = disable(user, by=request.user)
    messages.success(request, f"Đã khóa tài khoản {name}; thu hồi {tokens} mã API.")
    return redirect("accounts")


@require_http_methods(["GET", "POST"])
@for_roles("admin")
def account_password(request: HttpRequest, name: str) -> HttpResponse:
    user = get_object_or_404(get_user_model(), username=name)
    form = PasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        set_password(user, form.cleaned_data["password"], by=request.user)
        messages.success(request, f"Đã đặt mật khẩu mới cho {name}. Hãy báo cho người dùng.")
        return redirect("accounts")
    return render(request, "accounts/password.html", {"form": form, "name": name})
