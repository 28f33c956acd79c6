"""Admins' borough form, laid out with the GOV.UK Design System through crispy-forms-gds.

The form checks what was typed (real dates, a reason); the rules about roles and dates are
the service's, and its errors are put back onto the form.
"""

from crispy_forms_gds.choices import Choice
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Layout, Size
from django import forms

from boroughs.models import Borough
from boroughs.services import REASON_MAX_LENGTH, borough_configuration_errors
from diversion.forms import ErrorSummaryMixin, GovDateField

ROLE_CHOICES = [
    Choice(
        Borough.Role.PILOT,
        "Pilot",
        hint="Diversion is offered to eligible people between the pilot dates.",
    ),
    Choice(
        Borough.Role.COMPARISON,
        "Comparison",
        hint="Encounters are recorded for the comparison group; diversion is never offered.",
    ),
    Choice(
        Borough.Role.NONE,
        "Not taking part",
        hint="Encounters cannot be recorded in this borough.",
    ),
]


class BoroughChangeForm(ErrorSummaryMixin, forms.Form):
    """A borough's role and pilot dates, with the reason for changing them."""

    role = forms.ChoiceField(
        label="Role in the pilot",
        choices=ROLE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the borough's role in the pilot"},
    )
    pilot_start = GovDateField(
        label="Pilot start date", noun="the pilot start date", required=False
    )
    pilot_end = GovDateField(label="Pilot end date", noun="the pilot end date", required=False)
    change_reason = forms.CharField(
        label="Reason for the change",
        max_length=REASON_MAX_LENGTH,
        help_text="Shown in the borough's history, for example ‘MOPAC board approved the pilot’.",
        error_messages={
            "required": "Enter the reason for the change",
            "max_length": f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "pilot_start"
        ].help_text = (
            "Only for a pilot borough. The first day diversion is offered, for example 5 1 2026."
        )
        self.fields["pilot_end"].help_text = (
            "Only for a pilot borough, and optional. The last day diversion is offered; "
            "leave it blank if the pilot has no end date yet."
        )
        self.fields["change_reason"].widget.attrs.update(autocomplete="off")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's form carries the token
        self.helper.layout = Layout(
            Field.radios("role", legend_size=Size.MEDIUM),
            Field("pilot_start"),
            Field("pilot_end"),
            Field.text("change_reason", label_size=Size.MEDIUM),
            Button("submit", "Save changes"),
        )

    def clean(self) -> dict:
        """List the service's objections with any others, so every problem shows at once."""
        super().clean()
        cleaned = self.cleaned_data  # what clean() returns, typed as a dict
        if "role" in cleaned and not (self.has_error("pilot_start") or self.has_error("pilot_end")):
            errors = borough_configuration_errors(
                role=cleaned["role"],
                pilot_start=cleaned.get("pilot_start"),
                pilot_end=cleaned.get("pilot_end"),
            )
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field, message)
        return cleaned

    def clean_change_reason(self) -> str:
        reason = self.cleaned_data["change_reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason for the change")
        return reason
