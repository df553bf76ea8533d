"""App config for the agents: who the characters are and how they think."""

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    """The agents app."""

    name = "agents"
    verbose_name = "Cast and minds"
