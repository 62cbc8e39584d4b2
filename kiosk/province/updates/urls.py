from django.urls import path

from kiosk.province.updates import views

urlpatterns = [
    path("cap-nhat/", views.updates_page, name="updates"),
    path("cap-nhat/trien-khai", views.rollout_start, name="rollout_start"),
    path("cap-nhat/tiep", views.rollout_advance, name="rollout_advance"),
    path("cap-nhat/dung", views.rollout_halt, name="rollout_halt"),
]
