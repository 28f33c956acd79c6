"""Settings shared by every mode, read from the environment with django-environ.

Each mode (local, production, test) imports this module and changes only what differs.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Settings come from the process environment only (docker-compose passes its .env file in),
# so a stray .env file can never point the test suite at a production database.
env = environ.Env()

# --- Core ---------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    # The Django admin on a site that also asks admins for their second factor.
    "config.apps.ServiceAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_forms_gds",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "boroughs",
    "diversion",
    "reports",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, so static files stay cacheable and every page is not stored.
    "config.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every page needs sign-in, except the views marked with login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Admins and approvers reach nothing but their second-factor pages until they pass it.
    "config.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signs people out after 30 minutes idle or 12 hours in all, saying why. It acts before
    # any view is chosen, so LoginRequiredMiddleware then sends them to sign in again.
    "config.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "boroughs.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# Absent DATABASE_URL: an SQLite file in the project folder, so a newcomer needs no server.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True


def replica_databases(url: str) -> dict[str, dict]:
    """Return DATABASES' optional read-only ``replica`` entry for ``url`` ({} when empty).

    No transaction per request there (ATOMIC_REQUESTS off): only report builds and exports
    read from it, through config/db_router.py, and a request must not open it for nothing.
    """
    if not url.strip():
        return {}
    return {"replica": {**env.db_url_config(url.strip()), "ATOMIC_REQUESTS": False}}


# Optional read replica of the PostgreSQL database: report builds and the encounters export
# read from it (docs/scaling.md). Unset, everything reads and writes default.
DATABASES.update(replica_databases(env("DATABASE_REPLICA_URL", default="")))
DATABASE_ROUTERS = ["config.db_router.ReportingReplicaRouter"]
# The alias reporting reads use when DATABASES has it (config.db_router.reporting_alias).
REPORTING_DATABASE = "replica"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# An invitation's one-time set-password link works for this many days (boroughs/users.py).
PASSWORD_RESET_TIMEOUT = env.int("INVITATION_DAYS", default=7) * 24 * 60 * 60
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out user name and address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Brute-force protection (django-axes), on the service's sign-in form and the admin's alike:
# five wrong passwords for one user name from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# How many proxies in front of the service append to X-Forwarded-For (0: none; use the peer).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)

# Two-factor authentication (django-otp): authenticator app codes and single-use recovery codes.
OTP_TOTP_ISSUER = "Cannabis diversion pilot"
RECOVERY_CODE_COUNT = 10
# The admin's device pages never show a device's secret key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions end after 30 minutes without a request, and 12 hours after sign-in whatever happens.
SESSION_IDLE_TIMEOUT = 30 * 60
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Browser security headers -------------------------------------------------------------
# No inline script or style anywhere: every script and style sheet is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
# Switch off browser features the service never uses.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Locale -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Uploads ------------------------------------------------------------------------------
# An uploaded file bigger than this is streamed to a temporary file on disk, not held in RAM
# (the reoffence upload form refuses anything over 10 MB after that, saving nothing).
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Form fields other than files: no page posts anywhere near this much text.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Forms --------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# --- Redis and Celery ---------------------------------------------------------------------
# Absent REDIS_URL: tasks run in-process (eagerly), so the app runs with no broker at all.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TRACK_STARTED = True
# A job that runs away is stopped rather than left holding a worker forever.
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that dies mid-task must not lose it: acknowledge only when done, give a task back to
# the queue when its pool process is killed, and take one task at a time per process so a long
# build never holds another week's build behind it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged task to another worker after this long, so it must exceed the
# longest a task may be held: the 30-minute hard time limit and the longest retry countdown
# (10 minutes). Shorter would run slow builds twice; longer delays recovery when a whole worker
# is killed, which is why a starting worker also sends again any build left running.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=45 * 60)
}
# A build's week lock lapses this many seconds after its worker stops renewing it.
REPORT_BUILD_LOCK_TTL = env.int("REPORT_BUILD_LOCK_TTL", default=120)
# Report builds and imports on their own queue, the daily jobs on theirs, so a run of long
# builds never holds back the morning's overdue-referral check (docs/scaling.md). A worker
# consumes them with -Q reports,daily,celery; anything unrouted goes to the default "celery".
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "reports.tasks.report_build_task": {"queue": "reports"},
    "reports.tasks.report_build_scheduled_task": {"queue": "reports"},
    "reports.tasks.reoffence_import_task": {"queue": "reports"},
    "diversion.tasks.referrals_flag_overdue_task": {"queue": "daily"},
    "diversion.tasks.people_anonymise_task": {"queue": "daily"},
}
CELERY_BEAT_SCHEDULE = {
    # Monday 06:00 Europe/London: build the report for the ISO week just ended.
    "weekly-report": {
        "task": "reports.tasks.report_build_scheduled_task",
        "schedule": crontab(minute=0, hour=6, day_of_week="mon"),
    },
    # Every morning: flag referrals with no outcome 28 days after the encounter.
    "flag-overdue-referrals": {
        "task": "diversion.tasks.referrals_flag_overdue_task",
        "schedule": crontab(minute=30, hour=5),
    },
    # Every night: anonymise people whose follow-up ended more than RETENTION_MONTHS ago.
    "anonymise-past-retention": {
        "task": "diversion.tasks.people_anonymise_task",
        "schedule": crontab(minute=15, hour=3),
    },
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="diversion-pilot@localhost")

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # PDF rendering narrates every step at INFO; only its warnings matter here.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}

# --- Service ------------------------------------------------------------------------------
SERVICE_NAME = "Cannabis diversion pilot"

# --- Diversion ----------------------------------------------------------------------------
# A referral with no terminal outcome this many days after the encounter is flagged.
REFERRAL_OUTCOME_DAYS = env.int("REFERRAL_OUTCOME_DAYS", default=28)

# --- Access and accountability -----------------------------------------------------------
# How many proxies we run in front of the service. 0: the audit trail records REMOTE_ADDR as
# it is. N: it records the address N hops from the right of X-Forwarded-For (the one our
# outermost proxy saw); anything further left was written by the client and is not trusted.
AUDIT_TRUSTED_PROXIES = env.int("AUDIT_TRUSTED_PROXIES", default=0)
# Officer searches (find a person, search encounters) allowed per officer per hour.
SEARCHES_PER_HOUR = env.int("SEARCHES_PER_HOUR", default=30)
# Months after a person's last 12-month follow-up window closes before their name, date of
# birth, PNC ID and encounter locations are removed (pseudonymised rows stay for reports).
RETENTION_MONTHS = env.int("RETENTION_MONTHS", default=24)

# --- Imports ------------------------------------------------------------------------------
# Processes the import_encounters command checks and judges rows in (1: none besides its
# own). The per-row Python is what a large file waits on, so by default two cores share it.
# Each worker holds about 75 MB beside the command's 115 MB: two keep a million-row import
# under issue 8's 300 MB for all its processes together (docs/performance.md); more are
# faster only with more cores, and cost that memory each.
# Celery tasks never use this: their prefork workers cannot start processes of their own.
IMPORT_WORKERS = env.int("IMPORT_WORKERS", default=min(2, os.cpu_count() or 1))

# --- Error pages --------------------------------------------------------------------------
# The service's own pages answer errors in every mode (config/views.py). With DEBUG on,
# DJANGO_DEBUG_PAGES=true shows Django's technical 404 and 500 pages instead.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
DEBUG_PAGES = env.bool("DJANGO_DEBUG_PAGES", default=False)
MIDDLEWARE += ["config.error_pages.ServiceErrorPagesMiddleware"]
