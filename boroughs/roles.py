"""The four roles people sign in with, and what each may do.

Plain data, so migrations can import it. A role is a Django group of the same name.
"""

from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "Officer"
    ANALYST = "analyst", "Analyst"
    APPROVER = "approver", "Approver"
    ADMIN = "admin", "Admin"


# Service-wide permissions, declared on boroughs.ServicePermission.
SERVICE_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("log_encounters", "Can log encounters, referrals and outcomes in assigned boroughs"),
    ("view_reports", "Can view weekly reports"),
    ("submit_reports", "Can build reports and submit them for approval"),
    ("approve_reports", "Can approve or return submitted reports"),
    ("download_data", "Can download reports and pseudonymised data"),
    ("import_reoffences", "Can import reoffence matches"),
)

# Codenames granted to each role, as "app_label.codename".
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.OFFICER: ("boroughs.log_encounters",),
    Role.ANALYST: (
        "boroughs.view_reports",
        "boroughs.submit_reports",
        "boroughs.download_data",
        "boroughs.import_reoffences",
    ),
    Role.APPROVER: (
        "boroughs.view_reports",
        "boroughs.approve_reports",
        "boroughs.download_data",
    ),
    Role.ADMIN: (
        "boroughs.view_borough",
        "boroughs.change_borough",
        "boroughs.view_officerassignment",
        "boroughs.add_officerassignment",
        "boroughs.change_officerassignment",
        "boroughs.delete_officerassignment",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
    ),
}
