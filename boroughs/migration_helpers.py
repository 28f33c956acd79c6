"""Helpers for data migrations that create roles and grant them permissions.

Permissions are normally created after ``migrate`` finishes; roles are made by migrations, so
the permissions of the apps involved are created first, on the historical app registry.
"""

from collections.abc import Iterable, Mapping

from django.contrib.auth.management import create_permissions


def ensure_permissions(apps, app_labels: Iterable[str]) -> None:
    """Create the content types and permissions of ``app_labels`` now, not after migrate."""
    for label in app_labels:
        app_config = apps.get_app_config(label)
        # Historical app configs have no models module, which create_permissions checks for.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original


def grant(apps, role_permissions: Mapping[str, Iterable[str]]) -> None:
    """Add "app_label.codename" permissions to the groups named by the mapping's keys."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = {perm for perms in role_permissions.values() for perm in perms}
    ensure_permissions(apps, {perm.split(".", 1)[0] for perm in wanted})
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
