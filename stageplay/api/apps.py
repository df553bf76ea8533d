"""The API app: per-user API keys and the REST API under /api/."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """StagePlay's REST API and its API keys."""

    name = "stageplay.api"
    label = "api"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"
