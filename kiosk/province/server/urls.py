"""Every address of the province server, from its apps."""

from django.urls import include, path

urlpatterns = [
    path("", include("kiosk.province.accounts.urls")),
    path("", include("kiosk.province.fleet.urls")),
    path("", include("kiosk.province.bulletins.urls")),
    path("", include("kiosk.province.exports.urls")),
    path("", include("kiosk.province.updates.urls")),
]

handler404 = "kiosk.province.fleet.api.not_found"
handler500 = "kiosk.province.fleet.api.server_error"
