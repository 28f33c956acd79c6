from django.apps import AppConfig


class DiversionConfig(AppConfig):
    """Encounters, eligibility decisions, referrals and their outcomes."""

    name = "diversion"
    verbose_name = "Diversion"
