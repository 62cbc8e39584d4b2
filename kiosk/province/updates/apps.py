from django.apps import AppConfig


class UpdatesApp(AppConfig):
    name = "kiosk.province.updates"
    label = "updates"
    verbose_name = "Cập nhật phần mềm"
    default_auto_field = "django.db.models.BigAutoField"
