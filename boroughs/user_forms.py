"""Forms for the admins' pages about people who sign in, and for setting a password.

The forms check what was typed; the rules about who may do what are the services' (in
``boroughs/users.py``), and their errors are put back onto the form.
"""

from collections.abc import Sequence
from typing import cast

from crispy_forms_gds.choices import Choice
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Fluid, Layout, Size
from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.dateformat import format as format_date

from boroughs.models import Borough
from boroughs.roles import Role
from boroughs.user_selectors import Status
from boroughs.users import REASON_MAX_LENGTH
from diversion.forms import ErrorSummaryMixin

ROLE_HINTS = {
    Role.OFFICER: "Logs encounters and referrals in the boroughs chosen below.",
    Role.ANALYST: "Reviews weekly reports and downloads pseudonymised data; never sees names.",
    Role.APPROVER: "Approves or returns weekly reports. Needs an authenticator app.",
    Role.ADMIN: "Configures boroughs and people, and reads the audit trail. "
    "Needs an authenticator app.",
}


def role_choices(*, allow_admin: bool) -> list[Choice]:
    """The roles an admin may give: only a superuser gives the admin role."""
    return [
        Choice(role.value, role.label, hint=ROLE_HINTS[role])
        for role in Role
        if allow_admin or role != Role.ADMIN
    ]


def _borough_hint(borough: Borough) -> str:
    if borough.role == Borough.Role.PILOT and borough.pilot_start:
        start = format_date(borough.pilot_start, "j F Y")
        if borough.pilot_end:
            return f"Pilot, {start} to {format_date(borough.pilot_end, 'j F Y')}"
        return f"Pilot from {start}"
    if borough.role == Borough.Role.COMPARISON:
        return "Comparison borough"
    return "Not taking part"


def reason_field(label: str = "Reason for the change") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=REASON_MAX_LENGTH,
        help_text="Kept in the account's history and the audit trail, with your name.",
        error_messages={
            "required": "Enter the reason for the change",
            "max_length": f"The reason must be {REASON_MAX_LENGTH} characters or fewer",
        },
    )


class _RoleAndBoroughs(ErrorSummaryMixin, forms.Form):
    """A role, and the boroughs an officer works in."""

    role = forms.ChoiceField(
        label="Role",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the person's role",
            "invalid_choice": "Select one of the roles shown",
        },
    )
    boroughs = forms.MultipleChoiceField(
        label="Boroughs the officer works in",
        help_text="Only for officers. Select every borough they work in.",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Select boroughs from the list"},
    )
    reason = reason_field()

    def __init__(
        self, *args, boroughs: Sequence[Borough], allow_admin: bool = False, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self._boroughs = {b.gss_code: b for b in boroughs}
        cast(forms.ChoiceField, self.fields["role"]).choices = role_choices(allow_admin=allow_admin)
        cast(forms.ChoiceField, self.fields["boroughs"]).choices = [
            Choice(b.gss_code, b.name, hint=_borough_hint(b)) for b in boroughs
        ]
        self.fields["reason"].widget.attrs.update(autocomplete="off")

    def clean_boroughs(self) -> list[Borough]:
        return [self._boroughs[code] for code in self.cleaned_data["boroughs"]]

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason for the change")
        return reason

    def _layout(self, *fields, button: str) -> Layout:
        return Layout(
            *fields,
            Field.radios("role", legend_size=Size.MEDIUM),
            Field.checkboxes("boroughs", legend_size=Size.MEDIUM, small=True),
            Field.text("reason", label_size=Size.MEDIUM),
            Button("submit", button),
        )


class InviteForm(_RoleAndBoroughs):
    """Who to invite, their role and, for an officer, their boroughs."""

    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={
            "required": "Enter the person's full name",
            "max_length": "The name must be 150 characters or fewer",
        },
    )
    email = forms.EmailField(
        label="Email address",
        max_length=150,
        help_text="The invitation goes to this address, and it is also their username.",
        error_messages={
            "required": "Enter the person's email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "The email address must be 150 characters or fewer",
        },
    )
    field_order = ["full_name", "email", "role", "boroughs", "reason"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = "Why are you inviting them?"
        self.fields["full_name"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.fields["email"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's form carries the token
        self.helper.layout = self._layout(
            Field.text("full_name", label_size=Size.MEDIUM, field_width=Fluid.TWO_THIRDS),
            Field.text("email", label_size=Size.MEDIUM, field_width=Fluid.TWO_THIRDS),
            button="Send invitation",
        )


class UserChangeForm(_RoleAndBoroughs):
    """A new role and boroughs for someone, with the reason."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = self._layout(button="Save changes")


class ReasonForm(ErrorSummaryMixin, forms.Form):
    """The reason for deactivating or reactivating an account."""

    reason = reason_field()

    def __init__(self, *args, button: str, warning: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs.update(autocomplete="off")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Field.text("reason", label_size=Size.MEDIUM),
            Button.warning("submit", button) if warning else Button("submit", button),
        )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason for the change")
        return reason


class PeopleFilterForm(forms.Form):
    """Filter the list of people by role and status; sent with GET, so links can be shared."""

    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "Any role"), *Role.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Status.CHOICES]
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> dict:
        """Return the chosen filters for the selector; none when something is wrong."""
        if not self.is_valid():
            return {"role": "", "status": "", "page": 1}
        data = self.cleaned_data
        return {"role": data["role"], "status": data["status"], "page": data["page"] or 1}


class ChoosePasswordForm(ErrorSummaryMixin, SetPasswordForm):
    """Django's set-password form (the password validators apply) in GOV.UK markup."""

    error_messages = {
        **SetPasswordForm.error_messages,
        # (B105: a message about passwords, not a password.)
        "password_mismatch": "The two passwords do not match. Enter the same password twice",  # nosec B105
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        first, second = self.fields["new_password1"], self.fields["new_password2"]
        first.label, second.label = "New password", "Enter the password again"
        first.help_text = (
            "Use at least 8 characters. Do not use a common password, only numbers, "
            "or something like your name or email address."
        )
        first.widget.attrs.update(autocomplete="new-password")
        second.widget.attrs.update(autocomplete="new-password")
        first.error_messages["required"] = "Enter a password"
        second.error_messages["required"] = "Enter the password again"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Field.text("new_password1", field_width=Fluid.TWO_THIRDS),
            Field.text("new_password2", field_width=Fluid.TWO_THIRDS),
            Button("submit", "Set password"),
        )
