"""The admin site: staff who must use a second factor get in only once they have passed it."""

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from config.two_factor import second_factor_missing


class ServiceAdminSite(AdminSite):
    """Django's admin site, closed to a session that has not passed its second factor.

    SecondFactorMiddleware already sends such a session to the second-factor pages; this keeps
    the admin shut even if that middleware were ever left out of the settings.
    """

    site_header = "Cannabis diversion pilot: administration"
    site_title = "Cannabis diversion pilot"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not second_factor_missing(request=request)
