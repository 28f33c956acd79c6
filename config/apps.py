"""The Django admin, installed on the service's own admin site."""

from django.contrib.admin.apps import AdminConfig


class ServiceAdminConfig(AdminConfig):
    """Install the admin with a site that also asks for a verified second factor."""

    default_site = "config.admin_site.ServiceAdminSite"
