from django.urls import path

from kiosk.province.server import console, pages, reports, wire

DEVICE = "<str:device_id>"

urlpatterns = [
    path(f"devices/{DEVICE}/heartbeat", wire.heartbeat),
    path("api/v1/boards", wire.api_boards),
    path("api/v1/plays", wire.api_plays),
    path("metrics", wire.metrics_view),
    *pages.urlpatterns,
    *console.urlpatterns,
    *reports.urlpatterns,
]

handler404 = "kiosk.province.server.wire.not_found"
handler500 = "kiosk.province.server.wire.server_error"
