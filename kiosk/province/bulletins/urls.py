"""The console's addresses: bulletins and their steps, the audit log, and the proof-of-play
reports for the Department."""

from django.urls import path

from kiosk.province.bulletins import reports, views

BULLETIN = "bulletins/<int:pk>/"

urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/new", views.bulletin_new, name="bulletin_new"),
    path("bulletins/targets", views.target_search, name="target_search"),
    path(BULLETIN, views.bulletin_page, name="bulletin"),
    path(f"{BULLETIN}edit", views.bulletin_edit, name="bulletin_edit"),
    path(f"{BULLETIN}submit", views.bulletin_submit, name="bulletin_submit"),
    path(f"{BULLETIN}publish", views.bulletin_publish, name="bulletin_publish"),
    path(f"{BULLETIN}return", views.bulletin_return, name="bulletin_return"),
    path(f"{BULLETIN}withdraw", views.bulletin_withdraw, name="bulletin_withdraw"),
    path(f"{BULLETIN}delete", views.bulletin_delete, name="bulletin_delete"),
    path(f"{BULLETIN}preview-<str:orientation>.png", views.bulletin_preview, name="preview"),
    path("audit/", views.audit_log, name="audit"),
    path("reports/", reports.report_page, name="reports"),
    path("reports.csv", reports.report_csv, name="reports_csv"),
]
