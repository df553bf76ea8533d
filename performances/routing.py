"""Websocket URL routes of the stage."""

from django.urls import path

from performances.consumers import PerformanceConsumer

websocket_urlpatterns = [
    path("ws/performances/<int:pk>/", PerformanceConsumer.as_asgi()),
]
