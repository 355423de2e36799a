"""Settings, all from environment variables (see docs/configuration.md).

The defaults are the embedded set-up: SQLite under var/ and report jobs on a
thread of the web process, so a fresh clone runs with nothing but Python.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from store_monitoring import logs

if TYPE_CHECKING:
    from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_Default = TypeVar("_Default", int, int | None)


def crontab_from(text: str) -> "crontab":
    """A schedule from a cron line: minute hour day-of-month month day-of-week."""
    fields = text.split()
    if len(fields) != 5:
        raise ImproperlyConfigured(
            f"{text!r} is not a cron line of 5 fields: minute hour day-of-month month "
            "day-of-week, e.g. '0 3 * * *'"
        )
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    # Imported here: only Celery beat needs it, and a command need not import Celery.
    from celery.schedules import crontab

    return crontab(minute, hour, day_of_week, day_of_month, month_of_year)


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; a value that is neither (a typo such as "ture") is an error."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a yes/no value: "
        f"use one of {', '.join(sorted(_TRUE))} or {', '.join(sorted(_FALSE))}"
    )


def env_int(name: str, default: _Default, *, minimum: int | None = None) -> int | _Default:
    """A whole-number variable; anything else (a typo such as "10m") is an error."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r}: must be at least {minimum}")
    return number


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated variable: items trimmed, empty items (a trailing comma) dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("STORE_MONITORING_VAR_DIR", BASE_DIR / "var"))

DEBUG = env_bool("DJANGO_DEBUG", False)
# A production server (DJANGO_DEBUG off, the default) must never run on a key
# from the source, nor on one short enough to guess: it refuses to start
# without one, or with one Django's deployment check calls weak (fewer than 50
# characters or 5 different ones). `make run`, `make test` and the test suite
# (tests/settings.py) set a clearly local key of that length.
SECRET_KEY_MIN_LENGTH = 50
_NEW_KEY = "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not DEBUG and not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set (and DJANGO_DEBUG is off): set it to a long "
        f"random string, e.g. {_NEW_KEY}"
    )
if not DEBUG and (len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is too weak ({len(SECRET_KEY)} characters, "
        f"{len(set(SECRET_KEY))} different; DJANGO_DEBUG is off): production needs at "
        f"least {SECRET_KEY_MIN_LENGTH} random characters, e.g. {_NEW_KEY}"
    )
# DJANGO_DEBUG=true: a developer's machine.
SECRET_KEY = SECRET_KEY or "insecure-debug-only-key"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "django.contrib.auth",  # the pages' logins (superusers from createsuperuser)
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, so /api/docs/ needs no CDN
    "django_htmx",  # htmx itself, served from the wheel
    "csp",  # the Content-Security-Policy (its checks of the settings)
    "axes",  # locks out repeated failed log-ins (AXES_* below)
    "monitor",
]

MIDDLEWARE = [
    # Outermost: counts every answer, the error answers of the next one included.
    "monitor.metrics.RequestMetricsMiddleware",
    # Error answers (JSON for the API, pages for the pages): bodies over the
    # limit, a database that is down.
    "monitor.api.errors.JsonErrorsMiddleware",
    # Probes and metrics answer whatever the Host: they are called by address.
    "monitor.api.operations.ProbesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ (Swagger UI) from gunicorn and from runserver without DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The pages' forms (New report, log in) are POSTs: CSRF-checked. The API's
    # DRF views are exempt (they use no session authentication).
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The pages and the Swagger UI must not be framed by another site.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Last: answers a locked-out log-in with its page (AXES_LOCKOUT_TEMPLATE).
    "axes.middleware.AxesMiddleware",
]

# The pages (and the Swagger UI) run only the scripts and styles this site
# serves as files: no inline script, style or attribute, no CDN, nothing
# eval'd. An injected <script> or style="" is refused by the browser.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # The Swagger UI draws its icons as data: URLs.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# HTTPS, for a production server (all off by default: `make run` serves plain
# HTTP on 127.0.0.1). See docs/production.md.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
# Probes and scrapes come from inside the cluster, often over plain HTTP (they
# never reach the redirect: monitor.api.operations.ProbesMiddleware serves them).
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    # Only behind a proxy that terminates TLS and sets X-Forwarded-Proto itself
    # (overwriting any the client sent): otherwise a client could claim HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

ROOT_URLCONF = "store_monitoring.urls"
WSGI_APPLICATION = "store_monitoring.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'store_monitoring.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        # A kept connection is checked before a request reuses it: after the
        # database restarts, every thread's old one is dead, and without the check
        # its next request would fail (503) before the connection is replaced.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, creating the database's directory (var/) on first connection.
    DATABASES["default"]["ENGINE"] = "store_monitoring.sqlite"
    # WAL lets the web process read while an import or a report job writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails a request (503) in seconds, not minutes.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT", 3, minimum=0
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False

STATIC_URL = "static/"
# Serve the apps' static files where they are: no collectstatic step to forget,
# and no STATIC_ROOT (WhiteNoise would warn at start-up about a missing directory).
WHITENOISE_USE_FINDERS = True

# API keys (monitor.api.access): every API endpoint needs at least a read key,
# and the pages a Django login, unless API_KEYS_REQUIRED is false (`make run`'s
# open embedded set-up on 127.0.0.1 turns both off).
API_KEYS_REQUIRED = env_bool("API_KEYS_REQUIRED", True)


def throttle_rate(name: str, default: str) -> str | None:
    """A DRF rate such as 30/min from the environment; "off" (or empty) turns it off."""
    rate = os.environ.get(name, default).strip()
    return None if rate.lower() in {"", "off", "none"} else rate


# Requests per API key (per client address when keys are off), counted in the
# cache below: in Redis, shared by every web process, when CACHE_URL is set.
API_THROTTLE_RATES = {
    "read": throttle_rate("API_THROTTLE_READ", "600/min"),
    "trigger": throttle_rate("API_THROTTLE_TRIGGER", "30/min"),
    "write": throttle_rate("API_THROTTLE_WRITE", "120/min"),
}
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # A hung Redis must not hang requests: throttles give up quickly
            # and let the request through (monitor.api.throttles).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Request bodies over this many bytes get 413 (monitor.api.errors).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 2_621_440, minimum=0)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["monitor.api.access.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["monitor.api.access.ReadScope"],
    "DEFAULT_THROTTLE_CLASSES": ["monitor.api.throttles.ReadThrottle"],
    # Behind N reverse proxies, the client address is the Nth from the right of
    # X-Forwarded-For (throttles per address when keys are off).
    "NUM_PROXIES": env_int("API_NUM_PROXIES", None, minimum=0),
    "DEFAULT_PARSER_CLASSES": ["monitor.api.content.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "monitor.api.content.JsonAnswers",
    "UNAUTHENTICATED_USER": None,
    # Every error body is {"error": "…"}, as the 404 of an unknown report.
    "EXCEPTION_HANDLER": "monitor.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    # Operations are tagged by the segment after /api/ ("monitor"); /healthz,
    # /readyz and /metrics are tagged "operations" (monitor.api.operations).
    "SCHEMA_PATH_PREFIX": r"/api/",
    "TITLE": "store_monitoring",
    "DESCRIPTION": "Uptime and downtime of stores within their business hours.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema describes the API, not itself: a generated client needs no
    # operation for it, and it would be the one with four content types.
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is public and needs no database: no key is looked up (a key
    # sent anyway is ignored), so it answers while the database is down.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Names for the report status enums (the whole set, and the one-value sets
    # of the Running and Failed bodies), which share the field name "status".
    # The error answers every endpoint may give (401, 403, 429), and the link
    # from trigger_report's report_id to get_report.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "monitor.api.schema.document_access",
        "monitor.api.schema.exact_values",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ReportStatusEnum": "monitor.models.Report.Status",
        "RunningStatusEnum": ["Running"],
        "FailedStatusEnum": ["Failed"],
        "ChannelKindEnum": "monitor.models.Channel.Kind",
        "PollStatusEnum": ["active", "inactive"],
    },
}

LOGIN_URL = "pages:login"
LOGIN_REDIRECT_URL = "pages:fleet"
# Brute force on the log-in page (django-axes): after LOGIN_FAILURE_LIMIT
# failed log-ins for one user name, or from one client address, that name
# (from anywhere) and that address (whatever the name) are refused for
# LOGIN_LOCKOUT_MINUTES, even with the right password. A successful log-in
# clears its user's count. Unlock early with `manage.py axes_reset_username
# NAME`, `axes_reset_ip ADDRESS` or `axes_reset` (docs/security.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out log-in
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "monitor.pages.access.client_address"
AXES_VERBOSE = False  # no banner before every command's own output; failures are still logged
# Back to the login page: Django's default renders a template the pages do not have.
LOGOUT_REDIRECT_URL = "pages:login"
# The login and CSRF cookies travel over HTTPS only, where the site redirects to it.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)

# Rows sent over HTTP (POST /api/monitor/polls, …): a bigger request is refused whole (413).
INGEST_MAX_ROWS = env_int("INGEST_MAX_ROWS", 100_000)
INGEST_MAX_BYTES = env_int("INGEST_MAX_BYTES", 32 * 1024 * 1024)

# Report jobs (a report's, then one per part): on Celery workers when a broker
# is set, else on REPORT_EMBEDDED_THREADS threads of the web process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
REPORT_EMBEDDED_THREADS = env_int("REPORT_EMBEDDED_THREADS", 1, minimum=1)
# Incidents (docs/incidents.md): an outage opens one once it has lasted this many
# minutes (0: at once); a store with no poll for ALERT_SILENT_AFTER_MINUTES is
# silent (no incident opens for it). Time alone is looked at every
# ALERT_EVALUATE_INTERVAL_SECONDS (Celery beat, or the embedded queue's ticker).
ALERT_THRESHOLD_MINUTES = env_int("ALERT_THRESHOLD_MINUTES", 0, minimum=0)
ALERT_SILENT_AFTER_MINUTES = env_int("ALERT_SILENT_AFTER_MINUTES", 180, minimum=1)
ALERT_EVALUATE_INTERVAL_SECONDS = env_int("ALERT_EVALUATE_INTERVAL_SECONDS", 60, minimum=1)
CELERY_TASK_ACKS_LATE = True  # a job's task is acknowledged only once it has run...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...so a killed worker's job is redelivered
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
# Redis keeps a delivered, unacknowledged message aside; when its worker dies
# without returning it, another worker puts it back on the queue once it is
# older than the visibility timeout (checked every 10 s). Keep the timeout well
# under REPORT_STALE_AFTER_SECONDS, so the redelivered job runs before it is
# declared lost, and above the time a job (a report's or a part's) takes: a job
# still running past it gets a twin, harmless but wasted (docs/architecture.md).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=1),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,  # sweep on every interval, not every 10th
    # A dead or hung (stopped, not closed) Redis must not hang a trigger: a
    # connection attempt, and then any one command, gives up after these...
    "socket_connect_timeout": 1.0,
    "socket_timeout": 0.5,
    # TCP keepalive on every connection, so one that a restarted Redis or a
    # cut network left dead is noticed (no command retry or health-check PING:
    # each would lengthen the trigger's 2 s bound on a hung Redis).
    "socket_keepalive": True,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
# A worker that loses the broker reconnects for as long as it takes, at start-up too.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# kombu's Redis transport can stop consuming after Redis pauses mid-task ("Couldn't
# ack"): the worker still answers `inspect ping` but takes no job. A worker
# whose queue has had jobs waiting for this many seconds while it had room and
# received none exits (status 70) for its supervisor (systemd Restart=always,
# honcho) to start it again (monitor.tasks, the worker's watchdog). 0: off.
WORKER_STALL_SECONDS = env_int("WORKER_STALL_SECONDS", 120, minimum=0)
# A queued report whose queue no worker has served (taken a job, been busy
# with every process, or been idle with no job waiting) for this many seconds
# says so in its JSON and its page (services.workers); Celery workers beat
# every QUEUE_UNSERVED_SECONDS / 4 seconds (at most 10) into the database.
QUEUE_UNSERVED_SECONDS = env_int("QUEUE_UNSERVED_SECONDS", 60, minimum=1)
# ...and publishing a task retries once: trigger_report answers 503 within about 2 s.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.2,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# A report is computed in parts of at most this many stores (a range in the
# report's order), each a job of its own: on Celery spread over every worker.
# A part's memory grows with its stores; 7,500 makes the real shape (14,092
# stores) two parts, one per core of a 2-core worker, and 10x nineteen.
REPORT_SHARD_STORES = env_int("REPORT_SHARD_STORES", 7_500, minimum=1)
# A started job (a report's or a part's) that gives no sign of life for this
# long was lost: its report is marked Failed (unless a part still waits in the
# queue, which only REPORT_QUEUE_TIMEOUT fails).
REPORT_STALE_AFTER_SECONDS = env_int("REPORT_STALE_AFTER_SECONDS", 600, minimum=1)
# A report whose job, or one of its parts' jobs, still waits in the queue after
# this long is marked Failed: the queue lost the job (a broker restarted
# without persistence, or no worker runs). A backlog is not a fault: keep it long.
REPORT_QUEUE_TIMEOUT = env_int("REPORT_QUEUE_TIMEOUT", 3600, minimum=1)
# A client (an API key; requests without one, per organization) has at most
# this many reports waiting to start; its next trigger answers 429. Its
# waiting reports take turns with other clients' (services.report_turns).
REPORT_MAX_QUEUED_PER_KEY = env_int("REPORT_MAX_QUEUED_PER_KEY", 3, minimum=1)
# Retention: finished reports older than this many days, or beyond the newest
# this many, are deleted every REPORT_RETENTION_INTERVAL_SECONDS (Celery beat,
# or between jobs in the embedded set-up).
REPORT_RETENTION_DAYS = env_int("REPORT_RETENTION_DAYS", 7, minimum=1)
REPORT_RETENTION_COUNT = env_int("REPORT_RETENTION_COUNT", 500, minimum=1)
REPORT_RETENTION_INTERVAL_SECONDS = env_int("REPORT_RETENTION_INTERVAL_SECONDS", 600, minimum=0)
# What `celery -A store_monitoring beat` sends (the Celery app's beat_schedule).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "prune-reports": {
        "task": "monitor.reports_prune",
        # 0 (the embedded set-up: after every job) would make beat spin.
        "schedule": float(max(REPORT_RETENTION_INTERVAL_SECONDS, 1)),
    },
    "evaluate-incidents": {
        "task": "monitor.incidents_evaluate",
        "schedule": float(ALERT_EVALUATE_INTERVAL_SECONDS),
        "args": ("every-store",),
        # One that waited past the next one's time would only repeat it.
        "options": {"expires": float(ALERT_EVALUATE_INTERVAL_SECONDS)},
    },
}
CELERY_BEAT_SCHEDULE["notifications-catch-up"] = {
    "task": "monitor.notifications_catch_up",
    "schedule": 60.0,
    "args": (0,),
}
# Beat keeps the time each periodic job last ran in this file (beat's --schedule
# overrides it); the scheduler makes its folder when missing.
CELERY_BEAT_SCHEDULER = "store_monitoring.celery:PersistentScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Pruning polls (prune_polls) on a schedule too: off unless PRUNE_POLLS_OLDER_THAN_DAYS
# is set; PRUNE_POLLS_CRON is "minute hour day-of-month month day-of-week", in UTC.
PRUNE_POLLS_OLDER_THAN_DAYS = env_int("PRUNE_POLLS_OLDER_THAN_DAYS", -1)  # -1: off
if PRUNE_POLLS_OLDER_THAN_DAYS >= 0:
    CELERY_BEAT_SCHEDULE["prune-polls"] = {
        "task": "monitor.polls_prune",
        "schedule": crontab_from(os.environ.get("PRUNE_POLLS_CRON", "0 3 * * *")),
        "args": (PRUNE_POLLS_OLDER_THAN_DAYS,),
    }

# Notifications (docs/notifications.md). A failed delivery is tried again after
# NOTIFY_RETRY_FIRST_SECONDS, each wait three times the last up to
# NOTIFY_RETRY_MAX_SECONDS (keep it under CELERY_VISIBILITY_TIMEOUT: a longer
# countdown is delivered twice by Redis), for NOTIFY_RETRY_HOURS; a channel
# failing that long is marked failing.
NOTIFY_RETRY_FIRST_SECONDS = env_int("NOTIFY_RETRY_FIRST_SECONDS", 10, minimum=1)
NOTIFY_RETRY_MAX_SECONDS = env_int("NOTIFY_RETRY_MAX_SECONDS", 240, minimum=1)
NOTIFY_RETRY_HOURS = env_int("NOTIFY_RETRY_HOURS", 24, minimum=1)
# Webhooks (and Apprise's json://, xml://, form://) may reach loopback, private
# and link-local addresses only when this is on: a channel must not make the
# service a way into its own network (a cloud's metadata service, say).
NOTIFY_ALLOW_PRIVATE_ADDRESSES = env_bool("NOTIFY_ALLOW_PRIVATE_ADDRESSES", False)
# The service's address as people reach it: the absolute links in emails and chats.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Email channels go through Django's SMTP backend, configured by Django's own names.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "store-monitoring@localhost")
EMAIL_TIMEOUT = 5  # seconds: a try that has not answered is retried

# Each line starts with a UTC timestamp and the level; LOG_FORMAT=json writes one
# JSON object a line instead (store_monitoring.logs), as gunicorn and Celery do.
LOG_FORMAT = logs.log_format(os.environ)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": logs.formatter_path(LOG_FORMAT)}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
