"""One accessor for the namespaced STAGEPLAY settings dict, with defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "BACKEND": "embedded",  # a short name or an import string of a model backend
    "BACKEND_OPTIONS": {},  # backend name -> keyword options (paths, URLs, keys)
    "CAST_FILE": "",  # the data file `load_cast` reads
    "MAX_CAST": 12,  # most characters a scene may put on stage
    "MIN_CAST": 1,  # fewest characters a scene may put on stage
    "DEFAULT_TURN_LIMIT": 24,  # turns before a scene ends when it names none
}


class StageSettings:
    """Read `settings.STAGEPLAY[name]` with DEFAULTS; never at import time."""

    def __getattr__(self, name: str) -> Any:
        """Return the option `name`, or raise AttributeError naming the known ones."""
        if name not in DEFAULTS:
            known = ", ".join(sorted(DEFAULTS))
            raise AttributeError(f"Unknown STAGEPLAY option {name!r}; known: {known}")
        return getattr(settings, "STAGEPLAY", {}).get(name, DEFAULTS[name])


stage_settings = StageSettings()
