"""The audit trail's filter form."""

from django import forms

from audit.models import Action
from audit.selectors import AuditFilter


class AuditFilterForm(forms.Form):
    """Filter by user, action, object reference and date range; every field optional."""

    actor = forms.CharField(label="User name", required=False, max_length=150)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *Action.choices]
    )
    target = forms.CharField(
        label="Object reference",
        required=False,
        max_length=200,
        help_text="For example, person:P-1 or encounter:ENC-1",
    )
    since = forms.DateField(
        label="From (YYYY-MM-DD)",
        required=False,
        error_messages={"invalid": "Enter the first date as YYYY-MM-DD, e.g. 2026-03-01"},
    )
    until = forms.DateField(
        label="To (YYYY-MM-DD)",
        required=False,
        error_messages={"invalid": "Enter the last date as YYYY-MM-DD, e.g. 2026-03-31"},
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data  # what clean() returns, typed as a dict
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The last date must be on or after the first date")
        return data

    def filters(self) -> AuditFilter:
        """Return the filters chosen; call only once the form is valid."""
        data = self.cleaned_data
        return AuditFilter(
            actor=data["actor"],
            action=data["action"],
            target=data["target"],
            since=data["since"],
            until=data["until"],
        )
