"""The fleet's addresses: boards' heartbeats and the fleet API (api.py), and the
technicians' pages (views.py)."""

from django.urls import path

from kiosk.province.fleet import api, views

DEVICE = "<str:device_id>"

urlpatterns = [
    path(f"devices/{DEVICE}/heartbeat", api.heartbeat),
    path("api/v1/boards", api.api_boards),
    path("api/v1/plays", api.api_plays),
    path("metrics", api.metrics_view),
    path("boards/", views.fleet, name="fleet"),
    path(f"boards/{DEVICE}/", views.board_page, name="board"),
    path(f"boards/{DEVICE}/ask", views.ask_board, name="ask"),
    path(f"boards/{DEVICE}/screenshot.jpg", views.screenshot, name="screenshot"),
    path("plays/", views.plays, name="plays"),
    path("plays.csv", views.plays_csv, name="plays_csv"),
]
