"""Security middleware and logging: CSP, body-size limits, sign-in throttling, redaction."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from rest_framework.throttling import BaseThrottle

from stageplay.conf import stage_settings

Handler = Callable[[HttpRequest], HttpResponse]


class ContentSecurityPolicyMiddleware:
    """Add the Content-Security-Policy header to every response that has none."""

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault(
            "Content-Security-Policy", stage_settings.CONTENT_SECURITY_POLICY
        )
        return response


def _megabytes(size: int) -> str:
    """Return a byte count as `1.5 MB` (or `256 KB` below a megabyte)."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def body_limit(request: HttpRequest) -> int:
    """Return the largest body, in bytes, accepted for `request`."""
    if request.path.startswith("/api/"):
        return stage_settings.MAX_API_REQUEST_BYTES
    limit = stage_settings.MAX_REQUEST_BYTES
    if not request.content_type.startswith("multipart/"):
        # Only multipart bodies carry files; anything else is read into memory.
        limit = min(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return limit


def too_large(request: HttpRequest, size: int | None, limit: int) -> HttpResponse:
    """Return a 413 response saying how large the body was and what is allowed."""
    sent = f"is {_megabytes(size)}" if size is not None else "is too large"
    message = (
        f"The request body {sent}; the limit is {_megabytes(limit)}. "
        "Send a smaller file or less text."
    )
    if request.path.startswith("/api/"):
        return HttpResponse(
            json.dumps({"detail": message}),
            status=413,
            content_type="application/json",
        )
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class RequestSizeLimitMiddleware:
    """Refuse request bodies over the limit with 413 before anything reads them.

    Form posts are parsed here, so a form field over DATA_UPLOAD_MAX_MEMORY_SIZE is
    a clear 413 too, not the 400 Django would answer when CSRF checking reads it.
    """

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(header)
        except ValueError:
            return HttpResponse(
                f"Content-Length must be a number of bytes, not {header[:20]!r}.",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        limit = body_limit(request)
        if size > limit:
            return too_large(request, size, limit)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                request.POST  # noqa: B018 - parse now: before CSRF reads it
            except RequestDataTooBig:
                return too_large(request, None, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        """Answer Django's own size refusal with the same 413."""
        if isinstance(exception, RequestDataTooBig):
            return too_large(request, None, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return None


def _login_paths() -> set[str]:
    """Return the paths of the sign-in views: the site's and the admin's."""
    paths = set()
    for name in ("login", "admin:login"):
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            pass
    return paths


def client_address(request: HttpRequest) -> str:
    """Return the client's address, trusting X-Forwarded-For only as far as
    `REST_FRAMEWORK["NUM_PROXIES"]` says, exactly as the API's throttles do."""
    return BaseThrottle().get_ident(request) or "unknown"


def _digest(text: str) -> str:
    """Return a short hash of `text`, so cache keys hold no user input."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def login_failure_keys(request: HttpRequest, username: str) -> dict[str, str]:
    """Return the cache keys counting failures for this username and address."""
    return {
        "username": f"login-fail:user:{_digest(username.strip().casefold())}",
        "address": f"login-fail:addr:{_digest(client_address(request))}",
    }


class LoginRateLimitMiddleware:
    """Answer 429 after too many failed sign-ins for a username or from an address.

    A POST to a sign-in view that renders the form again (200) is a failure; a
    redirect is a success and clears the username's count.
    """

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path not in _login_paths():
            return self.get_response(request)
        keys = login_failure_keys(request, request.POST.get("username", ""))
        limits = {
            "username": stage_settings.LOGIN_FAILURES_PER_USERNAME,
            "address": stage_settings.LOGIN_FAILURES_PER_ADDRESS,
        }
        counts = cache.get_many(list(keys.values()))
        if any(counts.get(keys[k], 0) >= limits[k] for k in keys):
            return self._locked()
        response = self.get_response(request)
        seconds = stage_settings.LOGIN_LOCKOUT_SECONDS
        if response.status_code == 200:
            for key in keys.values():
                cache.add(key, 0, timeout=seconds)
                cache.incr(key)
                cache.touch(key, timeout=seconds)
        elif 300 <= response.status_code < 400:
            cache.delete(keys["username"])
        return response

    def _locked(self) -> HttpResponse:
        """Return the 429 answer telling the person when to try again."""
        minutes = max(1, stage_settings.LOGIN_LOCKOUT_SECONDS // 60)
        response = HttpResponse(
            "Too many failed sign-ins for this account or from this address. "
            f"Wait {minutes} minutes and try again, or reset your password.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(stage_settings.LOGIN_LOCKOUT_SECONDS)
        return response


REDACTED = "[redacted]"
_SEPARATOR = r"(['\"]?\s*[:=]\s*['\"]?)"
REDACTIONS = [
    # Headers and META keys: everything after the name, up to a quote or line end.
    re.compile(
        r"(?i)\b(authorization|proxy-authorization|http_authorization|"
        r"http_proxy_authorization|x-api-key|http_x_api_key|cookie|set-cookie|"
        r"http_cookie)" + _SEPARATOR + r"([^'\"\r\n]+)"
    ),
    # Credentials written as a scheme and a value: `Api-Key abc.def`, `Bearer x`.
    re.compile(r"(?i)\b(api-key|bearer|basic)(\s+)([A-Za-z0-9._~+/=-]+)"),
    # Fields and parameters: password=..., "new_password1": "...", sessionid=...
    re.compile(
        r"(?i)\b(\w*password\w*|passwd|\w*secret\w*|sessionid|csrftoken|"
        r"csrfmiddlewaretoken|api_?key)" + _SEPARATOR + r"([^&'\"\s,;}]+)"
    ),
]


def redact(text: str) -> str:
    """Return `text` with API keys, passwords, cookies and sessions replaced."""
    for pattern in REDACTIONS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrite log records so no key, password or session id reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message (and traceback text) with a redacted one."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
