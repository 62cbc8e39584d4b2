from django.apps import AppConfig


class BulletinsApp(AppConfig):
    name = "kiosk.province.bulletins"
    label = "bulletins"
    verbose_name = "Bản tin"
    default_auto_field = "django.db.models.BigAutoField"
