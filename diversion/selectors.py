"""Reads about people, encounters and referrals, always scoped to what the user may see."""

from django.contrib.auth.models import AbstractBaseUser


def officer_home_context(*, user: AbstractBaseUser) -> dict:
    """Return what the officer's home page shows: recent encounters, referrals needing action."""
    return {}
