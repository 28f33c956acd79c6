from django.apps import AppConfig


class BoroughsConfig(AppConfig):
    """London boroughs, their part in the pilot, and who works where."""

    name = "boroughs"
    verbose_name = "Boroughs and roles"
