"""URLs of the stage pages."""

from django.urls import path

from performances import views

app_name = "performances"

urlpatterns = [
    path("", views.playbill, name="playbill"),
    path("performances/new/", views.performance_new, name="new"),
    path("performances/<int:pk>/", views.performance_detail, name="detail"),
    path("performances/<int:pk>/control/", views.performance_control, name="control"),
    path("performances/<int:pk>/claim/", views.role_claim, name="claim"),
    path("performances/<int:pk>/release/", views.role_release, name="release"),
]
