"""App config for performances: what happens on stage."""

from django.apps import AppConfig


class PerformancesConfig(AppConfig):
    """The performances app."""

    name = "performances"
    verbose_name = "Stage"
