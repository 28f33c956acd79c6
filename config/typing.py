"""Types shared by the apps' views."""

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """A request a signed-in user made: what views behind ``login_required`` receive.

    For type checking only: Django still passes a plain ``HttpRequest``; this says that its
    ``user`` is a real ``User``, not ``AnonymousUser``, so views need not narrow it.
    """

    user: User
