"""Rate limits per API key, per user and per anonymous address, in the shared cache.

Rates are read from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` on each request, so
changing the setting takes effect without a restart of the class.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from stageplay.api.models import UserAPIKey


class _SettingsRate(SimpleRateThrottle):
    """A throttle whose rate is looked up in the settings when it is used."""

    def get_rate(self) -> str | None:
        """Return this scope's rate from the current settings."""
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_SettingsRate):
    """Limit anonymous clients by address."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        """Return the address's key, or None for a signed-in request."""
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class UserThrottle(_SettingsRate):
    """Limit each signed-in user, however they authenticate."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        """Return the user's key, or None for an anonymous request."""
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class APIKeyThrottle(_SettingsRate):
    """Limit each API key on its own, below its user's overall rate."""

    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        """Return the key's cache key, or None when no API key was used."""
        if not isinstance(request.auth, UserAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class CouncilThrottle(UserThrottle):
    """Limit how often one user may convene the council (each call runs the model)."""

    scope = "council"
