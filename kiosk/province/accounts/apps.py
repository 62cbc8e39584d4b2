from django.apps import AppConfig


class AccountsApp(AppConfig):
    name = "kiosk.province.accounts"
    label = "accounts"
    verbose_name = "Tài khoản"
    default_auto_field = "django.db.models.BigAutoField"
