"""The user guide's import path: `from blade_agents import BladeAgentSystem`.

Importing it outside Django (a plain script in the project root) configures Django
with `stageplay.settings`, applies pending migrations and loads the cast into an
empty database, so the user guide's example runs on a fresh checkout.
"""

from __future__ import annotations

import io
import os

import django
from django.apps import apps


def _prepare_database() -> None:
    """Apply pending migrations, and load the cast when there are no characters."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
    from agents.models import Character

    if not Character.objects.exists():
        call_command("load_cast", verbosity=0, stdout=io.StringIO())


def _configure() -> None:
    """Set Django up with StagePlay's settings unless something else already has."""
    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stageplay.settings")
    django.setup()
    _prepare_database()


_configure()

from agents.council import BladeAgentError, BladeAgentSystem, CouncilAnswer  # noqa: E402

__all__ = ["BladeAgentError", "BladeAgentSystem", "CouncilAnswer"]
