"""Settings for the test suite: the same database and Redis choice as the environment gives."""

from config.settings.base import *  # noqa: F403

# (B105: the test suite's own key, never used by a deployment.)
SECRET_KEY = "test-only-secret-key"  # nosec B105
DEBUG = False
# Hashing passwords slowly is a security feature; in tests it only costs time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The live server for browser tests serves files as they are, without collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the source folders; there is no collectstatic here.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Test-only: seconds a report build sleeps at each step, so a test can kill a worker mid-build.
REPORT_BUILD_TEST_STEP_DELAY = env.float("REPORT_BUILD_TEST_STEP_DELAY", default=0)  # noqa: F405
AXES_VERBOSE = False
# The replica is a test mirror of default: the same test database through its own
# connection, so tests can check which reads take the replica (config/db_router.py) whatever
# DATABASE_REPLICA_URL says. Only tests that allow the "replica" alias route to it; the rest
# read default (tests/conftest.py, reporting_database).
DATABASES["replica"] = {  # noqa: F405
    **DATABASES["default"],  # noqa: F405
    "ATOMIC_REQUESTS": False,
    "TEST": {"MIRROR": "default"},
}
