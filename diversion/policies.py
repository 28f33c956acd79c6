"""Find the eligibility policy in force on a date, as the pure rule's `Policy`."""

from datetime import date

from django.core.exceptions import ValidationError

from diversion import eligibility
from diversion.models import EligibilityPolicy


def policy_model_in_force(day: date) -> EligibilityPolicy:
    """Return the policy version whose `effective_from` is the latest on or before ``day``."""
    policy = (
        EligibilityPolicy.objects.filter(effective_from__lte=day)
        .order_by("-effective_from")
        .prefetch_related("limits")
        .first()
    )
    if policy is None:
        raise ValidationError(f"No eligibility policy was in force on {day:%Y-%m-%d}.")
    return policy


def as_rule(policy: EligibilityPolicy) -> eligibility.Policy:
    """Turn a stored policy version into the frozen value the pure rule takes."""
    return eligibility.Policy(
        version=policy.version,
        min_age=policy.min_age,
        max_age=policy.max_age,
        quantity_limits={limit.substance: limit.max_grams for limit in policy.limits.all()},
        prior_diversion_months=policy.prior_diversion_months,
        leap_day_rule=eligibility.LeapDayRule(policy.leap_day_rule),
    )


class PolicyBook:
    """Every policy version loaded once, for judging many encounters (imports, demo data)."""

    def __init__(self) -> None:
        versions = list(
            EligibilityPolicy.objects.order_by("effective_from").prefetch_related("limits")
        )
        self._versions = [(p.effective_from, p, as_rule(p)) for p in versions]

    def in_force(self, day: date) -> tuple[EligibilityPolicy, eligibility.Policy]:
        """Return the stored policy and its rule in force on ``day``."""
        found = None
        for effective_from, model, rule in self._versions:
            if effective_from <= day:
                found = (model, rule)
            else:
                break
        if found is None:
            raise ValidationError(f"No eligibility policy was in force on {day:%Y-%m-%d}.")
        return found


def policy_is_locked(policy: EligibilityPolicy) -> bool:
    """Say whether a version has judged an encounter, after which it can no longer change."""
    return policy.pk is not None and policy.encounters.exists()
