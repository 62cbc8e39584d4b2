from django.urls import path

from kiosk.province.exports import views

urlpatterns = [
    path("exports/<uuid:pk>/", views.export_page, name="export"),
    path("exports/<uuid:pk>/file", views.export_file, name="export_file"),
]
