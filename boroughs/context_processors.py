"""Template context shared by every page."""

from django.http import HttpRequest

from boroughs.selectors import roles_for


def roles(request: HttpRequest) -> dict:
    """Give templates the signed-in person's roles, to show only the links they may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": frozenset()}
    return {"user_roles": roles_for(user=user)}
