"""Django settings for StagePlay, from environment variables with working defaults."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("STAGEPLAY_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: bool) -> bool:
    """Return the environment flag `name` (1/true/yes/on or 0/false/no/off)."""
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


STAGEPLAY_ENV = os.environ.get("STAGEPLAY_ENV", "development")
PRODUCTION = STAGEPLAY_ENV == "production"

if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    missing = [k for k in ("SECRET_KEY", "ALLOWED_HOSTS") if not os.environ.get(k)]
    if missing:
        raise ImproperlyConfigured(
            "STAGEPLAY_ENV=production needs these environment variables: "
            + ", ".join(missing)
        )
    SECRET_KEY = os.environ["SECRET_KEY"]
    ALLOWED_HOSTS = [
        h.strip() for h in os.environ["ALLOWED_HOSTS"].split(",") if h.strip()
    ]
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS names no host; set it to the site's host names, "
            "comma-separated, e.g. ALLOWED_HOSTS=stage.example.com"
        )
    DEBUG = False
else:
    SECRET_KEY = os.environ.get(
        "SECRET_KEY", "development-only-key-change-me-in-production-0123456789abcdef"
    )
    ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    ALLOWED_HOSTS = [h.strip() for h in ALLOWED_HOSTS.split(",") if h]
    DEBUG = os.environ.get("DEBUG", "1") == "1"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "agents",
    "performances",
    "stageplay.accounts",
    "stageplay.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "stageplay.security.RequestSizeLimitMiddleware",
    "stageplay.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "stageplay.security.LoginRateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "stageplay.urls"
WSGI_APPLICATION = "stageplay.wsgi.application"
ASGI_APPLICATION = "stageplay.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite in WAL mode unless DATABASE_URL points elsewhere (PostgreSQL).
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "stageplay.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
            # One file per test process, so parallel runs never share a database.
            "TEST": {"NAME": DATA_DIR / f"test-{os.getpid()}.sqlite3"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer and cache: in-process unless REDIS_URL is set. The "viewers" layer
# is always in-process: each web process takes a performance's frames from the
# default layer once and fans them out to its own viewers (performances/fanout.py).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        },
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS["viewers"] = {"BACKEND": "performances.fanout.ViewersLayer"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation." + name}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if not PRODUCTION
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

LOGIN_URL = "login"
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# The REST API: Api-Key or session authentication, throttled per key, user and
# anonymous client in the default cache (Redis when REDIS_URL is set).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "stageplay.api.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "stageplay.api.renderers.StageBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "stageplay.api.pagination.StagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "stageplay.api.throttling.AnonThrottle",
        "stageplay.api.throttling.UserThrottle",
        "stageplay.api.throttling.APIKeyThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("STAGEPLAY_THROTTLE_ANON", "120/minute"),
        "user": os.environ.get("STAGEPLAY_THROTTLE_USER", "600/minute"),
        "api_key": os.environ.get("STAGEPLAY_THROTTLE_API_KEY", "600/minute"),
        "council": os.environ.get("STAGEPLAY_THROTTLE_COUNCIL", "20/hour"),
    },
    # Proxies in front of the site: 0 trusts no X-Forwarded-For (clients could forge
    # it to dodge limits); N takes the client address N hops from the right.
    "NUM_PROXIES": int(os.environ.get("STAGEPLAY_NUM_PROXIES", "0")),
    "EXCEPTION_HANDLER": "stageplay.api.exceptions.exception_handler",
    "UNICODE_JSON": False,  # \u-escape non-ASCII, bidi controls included
}
SPECTACULAR_SETTINGS = {
    "TITLE": "StagePlay API",
    "DESCRIPTION": "Characters, scenes, performances and their transcripts.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# Security: request sizes, cookies, HTTPS and the logs.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # form fields, without files
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads go to a temp file
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = [
    o.strip()
    for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",")
    if o.strip()
]
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_flag("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_flag("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if _env_flag("STAGEPLAY_BEHIND_PROXY", False):
        # Only behind a proxy that sets this header itself and strips the client's.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "stageplay.security.RedactingFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "{levelname} {asctime} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact"],
            "level": "ERROR",
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {
            "handlers": ["console", "mail_admins"],
            "level": "INFO",
            "propagate": False,
        },
    },
}

# StagePlay's own options, read through stageplay.conf.stage_settings.
STAGEPLAY = {
    "BACKEND": os.environ.get("STAGEPLAY_BACKEND", "embedded"),
    "BACKEND_OPTIONS": {
        "embedded": {
            "path": os.environ.get(
                "STAGEPLAY_EMBEDDED_PATH", str(BASE_DIR / "agents" / "stage_model")
            )
        },
        "transformers": {"path": os.environ.get("STAGEPLAY_MODEL_PATH", "")},
        "openai": {
            "base_url": os.environ.get("STAGEPLAY_OPENAI_URL", ""),
            "model": os.environ.get("STAGEPLAY_OPENAI_MODEL", ""),
            "api_key": os.environ.get("STAGEPLAY_OPENAI_KEY", ""),
        },
    },
    "CAST_FILE": str(BASE_DIR / "agents" / "data" / "cast.json"),
}
