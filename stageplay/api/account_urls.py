"""URLs of the account page's API keys section, under /account/api-keys/."""

from django.urls import path

from stageplay.api import pages

app_name = "api_keys"

urlpatterns = [
    path("", pages.api_keys, name="list"),
    path("<str:prefix>/revoke/", pages.api_key_revoke, name="revoke"),
]
