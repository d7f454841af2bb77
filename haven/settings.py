"""Haven settings: one module, driven by the environment (and a `.env` file when present).

Every value comes from an environment variable (or a `<NAME>_FILE` holding it, for secrets),
and a bad value stops the process with a message naming the variable. `.env.example` lists
every variable. Defaults are the embedded development setup of `make run`: SQLite, tasks run
in-process, DEBUG off unless `.env` turns it on.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file() and not os.environ.get("HAVEN_IGNORE_DOTENV"):
    env.read_env(BASE_DIR / ".env", overwrite=False)


def _secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE (container secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.strip().lstrip("-").isdigit()):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number")
    value = int(raw)
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value


def _list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


INSECURE_DEFAULT_KEY = "django-insecure-haven-development-only"  # noqa: S105

DEBUG = _bool("DEBUG", False)
SECRET_KEY = _secret("SECRET_KEY", INSECURE_DEFAULT_KEY)
ALLOWED_HOSTS = _list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS", [])
# pytest sets PYTEST_VERSION; tests run against PostgreSQL and Redis (defaults below).
TESTING = _bool("HAVEN_TESTING", "PYTEST_VERSION" in os.environ)
if TESTING:
    os.environ.setdefault("DATABASE_URL", "postgres://root@127.0.0.1:5432/haven")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

if not DEBUG and not TESTING:
    if not SECRET_KEY or SECRET_KEY == INSECURE_DEFAULT_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "DEBUG is off: set SECRET_KEY (or SECRET_KEY_FILE) to a random value of at least "
            "32 characters."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DEBUG is off: set ALLOWED_HOSTS to the host names Haven is served under."
        )

INSTALLED_APPS = [
    "haven.apps.HavenAdminConfig",  # django.contrib.admin with Haven's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_fsm",
    "django_countries",
    "django_filters",
    "pgtrigger",
    "pghistory",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    # Second factor (accounts.mfa): authenticator apps (TOTP) and recovery codes (static). Before
    # `accounts`, whose admin replaces their device admins.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Passkeys (WebAuthn) as a second factor beside the authenticator app (accounts.passkeys).
    "django_otp_webauthn",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "cases",
    "reports",
    "loadgen",
    "api",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (haven.logs).
    "haven.logs.RequestIdMiddleware",
    # Requests and their latency per view, for /metrics (haven.request_metrics).
    "haven.request_metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "haven.middleware.SessionIdleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session entered a second-factor code.
    "django_otp.middleware.OTPMiddleware",
    # With MFA_REQUIRED, a session signed in with a password alone reaches only the pages that
    # enrol or ask for the second factor (accounts.middleware.SecondFactorMiddleware).
    "accounts.middleware.SecondFactorMiddleware",
    # A signed-in user's own language (accounts.User.language) wins over the browser's.
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Crafted admin parameters (NUL bytes, overflowing dates, non-numeric ids) answer 400.
    "haven.middleware.AdminInputGuardMiddleware",
    # Field history (pghistory) records who changed a row and through which URL.
    "haven.middleware.HistoryMiddleware",
    # A lock conflict that outlived its retries answers 409 (pages) or 503 (API), not 500.
    "haven.middleware.ConflictMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the lockout page (HTTP 429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "haven.urls"
WSGI_APPLICATION = "haven.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.second_factor",
            ],
        },
    },
]

# Forms: Django's form templates, the common ones written in Python (haven/form_rendering.py).
FORM_RENDERER = "haven.form_rendering.FastTemplates"

# Database: PostgreSQL from DATABASE_URL; without it, the embedded SQLite file of `make run`.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    except Exception as exc:  # django-environ raises several kinds on a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = _int("DATABASE_CONN_MAX_AGE", 0)
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["TEST_DATABASE_NAME"]
USING_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if USING_SQLITE and not DEBUG and not TESTING and not _bool("HAVEN_ALLOW_SQLITE", False):
    raise ImproperlyConfigured(
        "DEBUG is off but no DATABASE_URL is set: production needs PostgreSQL "
        "(SQLite lacks the append-only audit triggers and field history)."
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (username, address) pair before any password is checked.
    "accounts.backends.LockoutBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is refused for LOGIN_COOLOFF_MINUTES. Locking the pair rather than the
# address keeps an office behind one NAT address from being locked out whole by one typo-prone
# colleague, and rather than the username keeps an outsider from locking officers out at will.
# `python manage.py axes_reset_username USERNAME` unlocks early.
AXES_FAILURE_LIMIT = _int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# A second-factor code that fails counts as a failed sign-in (accounts.mfa). The failures
# are forgotten when the sign-in is complete, that is after the code (or after the password
# where no second factor is asked for): a right password must not wipe the count of wrong
# codes, or a thief of the password could guess codes without end.
AXES_RESET_ON_SUCCESS = False
AXES_SENSITIVE_PARAMETERS = ["otp_token", "token"]
AXES_LOCKOUT_CALLABLE = "accounts.backends.lockout_response"
# The same address as the access log (accounts.addresses.client_ip): REMOTE_ADDR, or the
# right-most X-Forwarded-For hop that is not one of TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "accounts.addresses.client_ip"
# No start-up banner on every manage.py command; failures and lockouts are still logged.
AXES_VERBOSE = False

# Second factor: with MFA_REQUIRED (always, when DEBUG is off) a password alone reaches
# nothing but the pages that enrol an authenticator or ask for its code. The demo of
# `make run` (DEBUG on) skips it unless MFA_REQUIRED=true. API bearer tokens are not affected.
MFA_REQUIRED = _bool("MFA_REQUIRED", not DEBUG)
if not DEBUG and not MFA_REQUIRED:
    raise ImproperlyConfigured(
        "MFA_REQUIRED=false is for development only (DEBUG on): staff accounts of a "
        "deployment need a second factor."
    )
# The issuer an authenticator app shows next to the account name.
OTP_TOTP_ISSUER = os.environ.get("MFA_ISSUER", "Haven") or "Haven"
# How many single-use recovery codes a user gets (shown once, after enrolment).
MFA_RECOVERY_CODES = 10

# Passkeys (WebAuthn, django-otp-webauthn): a passkey belongs to one domain, the relying
# party's id, and works on that host and its sub-domains only. WEBAUTHN_RP_ID names it; by
# default the first name of ALLOWED_HOSTS (a leading dot or a wildcard dropped), or localhost.
# Browsers refuse an IP address as a passkey's domain: `make run` users enrol passkeys at
# http://localhost:8000, not http://127.0.0.1:8000.


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


_default_rp_id = next(
    (
        h.lstrip(".")
        for h in ALLOWED_HOSTS
        if h.lstrip(".") and "*" not in h and not _is_address(h.lstrip("."))
    ),
    "localhost",
)
WEBAUTHN_RP_ID = (os.environ.get("WEBAUTHN_RP_ID", "") or _default_rp_id).strip().lower()
if _is_address(WEBAUTHN_RP_ID):
    raise ImproperlyConfigured(
        f"WEBAUTHN_RP_ID={WEBAUTHN_RP_ID!r} is an address: browsers accept only a domain name "
        "as a passkey's domain (set WEBAUTHN_RP_ID, or put the host name first in ALLOWED_HOSTS)."
    )
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
if not re.fullmatch(rf"{_LABEL}(\.{_LABEL})*", WEBAUTHN_RP_ID):
    raise ImproperlyConfigured(
        f"WEBAUTHN_RP_ID={WEBAUTHN_RP_ID!r} is not a domain name (for example haven.migracija.lt)."
    )
OTP_WEBAUTHN_RP_ID = WEBAUTHN_RP_ID
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
# The origins a passkey's signature may come from: https on the relying party's domain and on
# every ALLOWED_HOSTS name within it; accounts.passkeys adds the request's own origin when its
# host is within the domain (a port of localhost in development and tests, http behind a
# proxy that does not say https).
OTP_WEBAUTHN_ALLOWED_ORIGINS = sorted(
    {f"https://{WEBAUTHN_RP_ID}"}
    | {
        f"https://{h.lstrip('.')}"
        for h in ALLOWED_HOSTS
        if h.lstrip(".") == WEBAUTHN_RP_ID or h.endswith("." + WEBAUTHN_RP_ID)
    }
)
OTP_WEBAUTHN_HELPER_CLASS = "accounts.passkeys.PasskeyHelper"
# A passkey is a second factor after the password, never a sign-in by itself: the password
# (and the lockout that counts its failures) always comes first.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "accounts.passkeys"

# Lithuanian is the authority's working language: deployments set LANGUAGE_CODE=lt; the demo
# keeps English. Signed-out pages follow the browser's Accept-Language; a signed-in user's own
# choice (accounts.User.language, set by the header switch) wins over both.
LANGUAGES = [("lt", _("Lithuanian")), ("en", _("English"))]
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}, not {LANGUAGE_CODE!r}."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Vilnius"
USE_I18N = True
USE_TZ = True
# Dates and moments as the pages write them (YYYY-MM-DD HH:MM) in both languages, the admin
# included, instead of each locale's long forms.
FORMAT_MODULE_PATH = ["haven.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploaded case documents live outside the static root and are only ever served through
    # the access-checked download view: MEDIA_URL is deliberately not routed anywhere.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/documents-are-served-by-an-access-checked-view/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DOCUMENT_MAX_BYTES = _int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1)

# Documents in S3-compatible object storage (haven.storage.DocumentStorage) when S3_BUCKET is
# set, so that every web server and worker reads the same documents; MEDIA_ROOT otherwise.
# S3_ENDPOINT_URL names a non-Amazon store (MinIO, Ceph, ...); without it, Amazon S3. Without
# S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, boto3 finds credentials itself (an instance
# role). `python manage.py move_documents --to s3` (or `--to local`) moves existing files.
S3_BUCKET = os.environ.get("S3_BUCKET", "").strip()
S3_STORAGE_OPTIONS: dict = {}
if S3_BUCKET:
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", S3_BUCKET) or ".." in S3_BUCKET:
        raise ImproperlyConfigured(
            f"S3_BUCKET={S3_BUCKET!r} is not a valid bucket name (3 to 63 lower-case letters, "
            "digits, dots and hyphens, for example haven-documents)."
        )
    _s3_endpoint = os.environ.get("S3_ENDPOINT_URL", "").strip()
    if _s3_endpoint and not re.fullmatch(r"https?://[^/\s?#]+/?", _s3_endpoint):
        raise ImproperlyConfigured(
            f"S3_ENDPOINT_URL={_s3_endpoint!r} must be http(s)://host[:port] of the store "
            "(for example https://s3.example.gov or http://127.0.0.1:9000), without a path."
        )
    _s3_region = os.environ.get("S3_REGION", "").strip()
    if not re.fullmatch(r"[a-z0-9-]{2,40}", _s3_region):
        raise ImproperlyConfigured(
            f"S3_BUCKET is set: set S3_REGION to the bucket's region (for example eu-north-1; "
            f"most S3-compatible stores accept us-east-1), not {_s3_region!r}."
        )
    _s3_key_id = os.environ.get("S3_ACCESS_KEY_ID", "").strip()
    _s3_secret = (_secret("S3_SECRET_ACCESS_KEY", "") or "").strip()
    if bool(_s3_key_id) != bool(_s3_secret):
        raise ImproperlyConfigured(
            "Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or S3_SECRET_ACCESS_KEY_FILE), "
            "or neither (boto3 then uses the machine's own credentials, such as an instance role)."
        )
    S3_STORAGE_OPTIONS = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": _s3_endpoint.rstrip("/") or None,
        "region_name": _s3_region,
        "access_key": _s3_key_id or None,
        "secret_key": _s3_secret or None,
        "max_bytes": DOCUMENT_MAX_BYTES,
    }
    STORAGES["default"] = {
        "BACKEND": "haven.storage.DocumentStorage",
        "OPTIONS": S3_STORAGE_OPTIONS,
    }

# Field history context (who, through which URL) is attached to the queries of requests that
# change data. GET pages change no tracked row (a view of a case is a CaseEvent, not
# history), and tracking them would prefix every read with two set_config calls.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Sessions and cookies: a workstation left unattended signs out after SESSION_IDLE_SECONDS.
SESSION_COOKIE_AGE = _int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
# A session in use is saved (its expiry pushed back) at most this often, not on every
# request (haven.middleware.SessionIdleMiddleware).
SESSION_REFRESH_SECONDS = min(_int("SESSION_REFRESH_SECONDS", 60), SESSION_COOKIE_AGE // 2)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not TESTING:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 31536000)
    if _bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS preload and includeSubDomains commit every sub-domain of the authority's domain to
# HTTPS for years; that is the domain owner's decision, not this application's.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Client addresses (access log, lockout, sessions; accounts.addresses.client_ip): REMOTE_ADDR,
# unless it is one of TRUSTED_PROXIES: then django-ipware takes the right-most hop of
# X-Forwarded-For that is not a trusted proxy (hops left of it were written by the client).
TRUSTED_PROXIES = _list("TRUSTED_PROXIES", [])  # addresses or networks: 10.0.0.5, 10.0.0.0/24
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an address or a network "
            "(for example 10.0.0.5 or 10.0.0.0/24)."
        ) from None

# /metrics: open to these networks (client address as above) or to `Authorization: Bearer
# <METRICS_TOKEN>`; to nobody when both are empty.
METRICS_ALLOWED = _list("METRICS_ALLOWED", [])
for _network in METRICS_ALLOWED:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED: {_network!r} is not an address or a network "
            "(for example 10.0.0.5 or 10.0.0.0/24)."
        ) from None
METRICS_TOKEN = _secret("METRICS_TOKEN", "") or ""
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters long.")

# Celery: Redis broker when REDIS_URL is set, otherwise tasks run in-process (make run).
REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL and not DEBUG and not TESTING and not _bool("HAVEN_ALLOW_NO_REDIS", False):
    # Without a broker, tasks would run inside the web process and the beat schedule (deadline
    # sweeps, reminders, digests) would never run at all: silently, in production.
    raise ImproperlyConfigured(
        "DEBUG is off but REDIS_URL is not set: production needs Redis, the broker of the "
        "deadline sweeps, reminders and digests (without it they would never run)."
    )
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# The cache is shared by every web process (API rate limits, short-lived counters): Redis when
# it is configured, this process's memory in the embedded default.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL

# The REST API (api/): personal bearer tokens, JSON only, errors as {"detail", "errors"},
# requests per token limited through the shared cache (Redis in production).
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "600/min").strip()
if not re.fullmatch(r"[1-9][0-9]{0,8}/(s|sec|m|min|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATE must be a number of requests per s, min, hour or day (600/min), "
        f"not {API_THROTTLE_RATE!r}."
    )
API_TOKEN_DAYS = _int("API_TOKEN_DAYS", 90, minimum=1)
# Break-glass: how long a caseworker's emergency access to another unit's case lasts (hours).
BREAK_GLASS_HOURS = _int("BREAK_GLASS_HOURS", 12, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Haven API",
    "DESCRIPTION": "Asylum cases: the same rules, filters and timeline as Haven's pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.Status",
        "DecisionOutcomeEnum": "cases.models.Application.Outcome",
    },
}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TIMEZONE = TIME_ZONE
SWEEP_INTERVAL_MINUTES = _int("SWEEP_INTERVAL_MINUTES", 15, minimum=1)
DIGEST_HOUR = _int("DIGEST_HOUR", 7)
if DIGEST_HOUR > 23:
    raise ImproperlyConfigured(f"DIGEST_HOUR={DIGEST_HOUR} must be between 0 and 23")
# The digest lists what is due within this many days (and what is overdue).
DIGEST_DAYS = _int("DIGEST_DAYS", 14, minimum=1)
# How long one send may last, and so hold its claim. Its SMTP conversation waits at most
# EMAIL_TIMEOUT seconds for each connection and reply; a mail server that trickles bytes gets
# past that, so the send task (a reminder, a digest) is also stopped after SEND_TIME_LIMIT
# seconds (the prefork pool enforces it; at two thirds of it the send is interrupted, records
# the error, releases its claim and is retried).
# (Not a setting named EMAIL_TIMEOUT: Django 6.1 refuses its old EMAIL_* settings beside MAILERS.)
_email_timeout = _int("EMAIL_TIMEOUT", 10, minimum=1)
SEND_TIME_LIMIT = _int("SEND_TIME_LIMIT", 180, minimum=3 * _email_timeout)
SEND_SOFT_TIME_LIMIT = SEND_TIME_LIMIT * 2 // 3
# An unsent reminder whose claim is older than this belonged to a worker that died (no live
# send holds a claim longer than SEND_TIME_LIMIT), and one never claimed lost its enqueue: the
# next sweep, or a worker connecting to the broker, enqueues it again. REMINDER_GRACE_MINUTES
# (the older name) is still read when REMINDER_GRACE_SECONDS is not set.
REMINDER_GRACE_SECONDS = _int(
    "REMINDER_GRACE_SECONDS", 60 * _int("REMINDER_GRACE_MINUTES", 10, minimum=1), minimum=1
)
if REMINDER_GRACE_SECONDS < SEND_TIME_LIMIT + 10:
    raise ImproperlyConfigured(
        f"REMINDER_GRACE_SECONDS={REMINDER_GRACE_SECONDS} must be at least SEND_TIME_LIMIT + 10 "
        f"({SEND_TIME_LIMIT + 10}): a live send may hold its claim for SEND_TIME_LIMIT seconds."
    )
# Redis delivers a message again when its worker has not acknowledged it after this many
# seconds (a worker that died). Messages are acknowledged when their task ends, and a retry's
# delay is spent holding its message too, so the delay of retries is capped at a quarter of
# it (at most 10 minutes) and a send at half of it (SEND_TIME_LIMIT): a live worker's message
# is never delivered twice. Redis is searched for such messages every 10 × 10 s (with a
# timeout under 1000 s, every 10 s).
BROKER_VISIBILITY_TIMEOUT = _int("BROKER_VISIBILITY_TIMEOUT", 3600, minimum=2 * SEND_TIME_LIMIT)
RETRY_BACKOFF_MAX = min(600, BROKER_VISIBILITY_TIMEOUT // 4)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 10 if BROKER_VISIBILITY_TIMEOUT >= 1000 else 1,
    "socket_connect_timeout": 2,
}
# After this many failed attempts the sweep stops retrying a reminder; the admin's
# "retry sending" action gives it a fresh set.
REMINDER_MAX_ATTEMPTS = _int("REMINDER_MAX_ATTEMPTS", 12, minimum=1)
# How often the case chains' heads are checkpointed (cases.checkpoints): events written since
# the last checkpoint could be removed unseen, so this is the window truncation hides in.
AUDIT_CHECKPOINT_MINUTES = _int("AUDIT_CHECKPOINT_MINUTES", 60, minimum=1)
# How often the report rows take in events no workflow change folded (reports.folding.catch_up):
# after downtime or a bulk load, the reports lag the timeline by at most this much.
REPORT_CATCH_UP_MINUTES = _int("REPORT_CATCH_UP_MINUTES", 10, minimum=1)
# How long a report's figures are kept in the shared cache for the same filters and the same
# version of the report rows (reports.figures.computed); 0 computes them on every request.
REPORT_CACHE_SECONDS = _int("REPORT_CACHE_SECONDS", 300)

# Beat sends a heartbeat task this often; `/health/` fails beat or the worker when their last
# heartbeat is older than HEALTH_HEARTBEAT_STALE_SECONDS.
HEARTBEAT_SECONDS = _int("HEARTBEAT_SECONDS", 60, minimum=1)
HEALTH_HEARTBEAT_STALE_SECONDS = _int(
    "HEALTH_HEARTBEAT_STALE_SECONDS", 3 * HEARTBEAT_SECONDS + 30, minimum=1
)

from celery.schedules import crontab  # noqa: E402 - only the beat schedule needs it

# Beat (`make worker` runs it with the worker). A sweep message older than one interval is
# dropped (`expires`): the next sweep does the same work, so a backlog after downtime never
# piles up. The digest runs at DIGEST_HOUR Vilnius time (CELERY_TIMEZONE); a beat that was
# down at that hour runs it when it starts.
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "cases.tasks.sweep_deadlines",
        "schedule": float(SWEEP_INTERVAL_MINUTES * 60),
        "options": {"expires": SWEEP_INTERVAL_MINUTES * 60},
    },
    "deadline-digest": {
        "task": "cases.tasks.send_digests",
        "schedule": crontab(hour=DIGEST_HOUR, minute=0),
        "options": {"expires": 12 * 3600},
    },
    "heartbeat": {
        "task": "haven.heartbeat",
        "schedule": float(HEARTBEAT_SECONDS),
        "options": {"expires": HEARTBEAT_SECONDS},
    },
    "report-rows-catch-up": {
        "task": "reports.tasks.catch_up_report_rows",
        "schedule": float(REPORT_CATCH_UP_MINUTES * 60),
        "options": {"expires": REPORT_CATCH_UP_MINUTES * 60},
    },
    "audit-checkpoint": {
        "task": "cases.tasks.write_audit_checkpoints",
        "schedule": float(AUDIT_CHECKPOINT_MINUTES * 60),
        "options": {"expires": AUDIT_CHECKPOINT_MINUTES * 60},
    },
}

# Exactly one beat: with Redis, beat keeps its schedule in Redis (celery-redbeat) and holds a
# lock there, renewed every loop; a second beat on another machine waits for the lock and takes
# over within BEAT_LOCK_SECONDS of the first one's death, instead of doubling every sweep.
if REDIS_URL:
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_KEY_PREFIX = "haven:redbeat"
    CELERY_BEAT_MAX_LOOP_INTERVAL = 5
    CELERY_REDBEAT_LOCK_TIMEOUT = _int(
        "BEAT_LOCK_SECONDS", 60, minimum=CELERY_BEAT_MAX_LOOP_INTERVAL * 3
    )

# Mail: Django 6.1's MAILERS. The console backend unless SMTP is configured.
_email_host = os.environ.get("EMAIL_HOST", "")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": _int("EMAIL_PORT", 587, minimum=1),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": _secret("EMAIL_HOST_PASSWORD", "") or "",
                "use_tls": _bool("EMAIL_USE_TLS", True),
                "timeout": _email_timeout,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "haven@localhost")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Logs: one JSON object per line (LOG_FORMAT=json, the default with DEBUG off) or readable
# text (the default of `make run`), each with the request id and the user's id (haven.logs).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "") or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "haven.logs.RequestContext"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # In-process (eager) tasks would log every run into the development server's output.
        **({"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {}),
    },
}
