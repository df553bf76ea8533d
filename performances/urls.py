"""URLs of the stage pages."""

from django.urls import path

from performances import views

app_name = "performances"

urlpatterns = [
    path("", views.playbill, name="playbill"),
    path("performances/<int:pk>/", views.performance_detail, name="detail"),
]
