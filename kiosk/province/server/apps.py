from django.apps import AppConfig


class ProvinceConfig(AppConfig):
    name = "kiosk.province.server"
    label = "province"
    verbose_name = "Hệ thống thông tin nguồn cấp tỉnh"
    default_auto_field = "django.db.models.BigAutoField"
