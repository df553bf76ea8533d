"""The URL map of StagePlay."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/", include("django.contrib.auth.urls")),
    path("account/api-keys/", include("stageplay.api.account_urls")),
    path("account/", include("stageplay.accounts.urls")),
    path("api/", include("stageplay.api.urls")),
    path("council/", include("agents.urls")),
    path("", include("performances.urls")),
]
