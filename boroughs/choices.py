"""A borough's part in the pilot: the one list, shared by the model and the eligibility rule."""

from django.db import models


class BoroughRole(models.TextChoices):
    """Only pilot boroughs divert; comparison boroughs record encounters for the evaluation."""

    PILOT = "pilot", "Pilot"
    COMPARISON = "comparison", "Comparison"
    NONE = "none", "Not taking part"
