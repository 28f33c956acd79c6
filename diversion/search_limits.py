"""How many searches for people an officer may make in an hour.

Searching by surname and date of birth is how an officer finds someone, and also how a
curious officer could trawl the records; a limit per officer per hour
(``SEARCHES_PER_HOUR``) allows the first and stops the second. Counts live in Django's cache
(Redis in production), in fixed one-hour windows.
"""

import time

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache

WINDOW_SECONDS = 3600


def _key(user: User, window: int) -> str:
    # The date joined as well as the id, so an id reused by a new account starts from zero.
    joined = user.date_joined.timestamp() if getattr(user, "date_joined", None) else 0
    return f"officer-searches:{user.pk}:{joined:.6f}:{window}"


def search_allowed(*, user: User) -> bool:
    """Count one search by ``user``; say whether it is within this hour's limit."""
    window = int(time.time() // WINDOW_SECONDS)
    key = _key(user, window)
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count <= settings.SEARCHES_PER_HOUR


def limit_message() -> str:
    """Say plainly why a search was refused and what to do."""
    return (
        f"You have made {settings.SEARCHES_PER_HOUR} searches in the last hour, which is the "
        "most allowed. Try again later, or ask your supervisor if you need to search more."
    )
