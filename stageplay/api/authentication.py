"""`Authorization: Api-Key <key>` authentication, acting as the key's user."""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from stageplay.api.keys import KeyRefused, api_key_check

KEYWORD = "Api-Key"
HOW_TO = f"Send your key as the header 'Authorization: {KEYWORD} <key>'."
# The scheme, one space, then the key: printable ASCII with no spaces.
HEADER = re.compile(rf"^{KEYWORD} ([!-~]+)$", re.IGNORECASE)


class APIKeyAuthentication(BaseAuthentication):
    """Authenticate `Authorization: Api-Key <key>` as the user who owns the key.

    A request with no Authorization header is left to the next authenticator
    (the session); any other Authorization header is refused with 401, so a
    mistyped credential never silently becomes an anonymous request.
    """

    def authenticate(self, request: Request):
        """Return (user, key) for a valid key, None without a header, else raise."""
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        match = HEADER.match(header)
        if match is None:
            scheme, _, rest = header.partition(" ")
            bare = scheme.lower() == KEYWORD.lower() and not rest.strip()
            if bare or not header.strip():
                raise AuthenticationFailed(f"The API key is missing. {HOW_TO}")
            if scheme.lower().startswith(KEYWORD.lower()):
                raise AuthenticationFailed(
                    f"Put exactly one space between {KEYWORD} and the key, which "
                    f"has no spaces. {HOW_TO}"
                )
            raise AuthenticationFailed(
                f"Unsupported authorization scheme {scheme[:20]!r}. {HOW_TO}"
            )
        try:
            api_key = api_key_check(key=match.group(1))
        except KeyRefused as exc:
            raise AuthenticationFailed(str(exc)) from None
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        """Return the WWW-Authenticate challenge, which makes DRF answer 401."""
        return f'{KEYWORD} realm="api"'


class APIKeyScheme(OpenApiAuthenticationExtension):
    """Describe Api-Key authentication in the OpenAPI schema."""

    target_class = "stageplay.api.authentication.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        """Return the security scheme: the Authorization header, `Api-Key <key>`."""
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"'{KEYWORD} <key>': create a key on your account page.",
        }
