from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The weekly reoffending report, its versions and approval."""

    name = "reports"
    verbose_name = "Reports"
