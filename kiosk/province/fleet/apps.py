from django.apps import AppConfig


class FleetApp(AppConfig):
    name = "kiosk.province.fleet"
    label = "fleet"
    verbose_name = "Bảng tin và báo cáo của chúng"
    default_auto_field = "django.db.models.BigAutoField"
