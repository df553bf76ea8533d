"""One accessor for the namespaced STAGEPLAY settings dict, with defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "BACKEND": "embedded",  # a short name or an import string of a model backend
    "BACKEND_OPTIONS": {},  # backend name -> keyword options (paths, URLs, keys)
    "BEST_OF": 4,  # candidates drawn per line and re-ranked, when the model has a
    # reranker (agents/stage_model/reranker/); 1 streams a single candidate
    "CAST_FILE": "",  # the data file `load_cast` reads
    "MAX_CAST": 12,  # most characters a scene may put on stage
    "MIN_CAST": 1,  # fewest characters a scene may put on stage
    "CHAT_RETENTION_DAYS": 30,  # chat older than this is deleted by purge_expired
    "SITE_URL": "http://127.0.0.1:8000",  # where links printed by commands point
    "DEFAULT_TURN_LIMIT": 24,  # turns before a scene ends when it names none
    "WORKER_IN_PROCESS": None,  # run a worker inside daphne; None: when no Redis
    "WORKER_LEASE_SECONDS": 20.0,  # a worker's lease on a performance, renewed per turn
    "WORKER_POLL_SECONDS": 1.0,  # how often an idle worker looks for work
    "LINE_PACE_SECONDS": 2.5,  # pause after each line so people can read it
    "HUMAN_TURN_SECONDS": 45.0,  # how long the stage waits for a human performer
    "DELTA_INTERVAL_SECONDS": 0.1,  # at most ~10 `line.delta` frames per second
    "MAX_REQUEST_BYTES": 10 * 1024 * 1024,  # largest request body (portrait uploads)
    "MAX_API_REQUEST_BYTES": 256 * 1024,  # largest request body under /api/
    "LOGIN_FAILURES_PER_USERNAME": 5,  # failed sign-ins before a username is locked
    "LOGIN_FAILURES_PER_ADDRESS": 20,  # failed sign-ins before an address is locked
    "LOGIN_LOCKOUT_SECONDS": 900,  # how long a lock lasts (from the last failure)
    "API_KEYS_PER_USER": 10,  # most unrevoked API keys one user may hold
    "CONTENT_SECURITY_POLICY": (  # the Content-Security-Policy header of every page
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self' ws: wss:; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
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
