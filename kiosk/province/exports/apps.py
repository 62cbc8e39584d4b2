from django.apps import AppConfig


class ExportsApp(AppConfig):
    name = "kiosk.province.exports"
    label = "exports"
    verbose_name = "Tệp tải về"
    default_auto_field = "django.db.models.BigAutoField"
