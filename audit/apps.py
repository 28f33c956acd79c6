from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who read or changed what, when and from where: an append-only trail."""

    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Connect the sign-in receivers; importing the module is what registers them.
        from audit import signals  # noqa: F401
