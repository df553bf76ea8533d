"""URLs of accounts and the user's own data."""

from django.urls import path

from stageplay.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("signup/", views.signup, name="signup"),
    path("consent/<slug:purpose>/", views.consent, name="consent"),
    path("data/", views.data, name="data"),
    path("data/erase/", views.erase, name="erase"),
]
