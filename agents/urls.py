"""URLs of the council page and its JSON endpoints."""

from django.urls import path

from agents import views

app_name = "agents"

urlpatterns = [
    path("", views.council_page, name="council"),
    path(
        "agents/<slug:agent>/answer/",
        views.council_agent_answer,
        name="council-answer",
    ),
    path("synthesis/", views.council_synthesis, name="council-synthesis"),
]
