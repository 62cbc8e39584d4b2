from django.urls import path

from kiosk.province.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/<str:name>/unlock", views.account_unlock, name="account_unlock"),
    path("accounts/<str:name>/disable", views.account_disable, name="account_disable"),
    path("accounts/<str:name>/password", views.account_password, name="account_password"),
]
