"""The sign-in and second-factor forms, in GOV.UK markup through crispy-forms-gds."""

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Fluid, Layout
from django import forms
from django.contrib.auth.forms import AuthenticationForm

from diversion.forms import ErrorSummaryMixin


class SignInForm(ErrorSummaryMixin, AuthenticationForm):
    """Django's sign-in form with messages in plain English."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
        "inactive": "This account has been switched off. Ask your team's administrator.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.fields["username"].widget.attrs.update({"spellcheck": "false"})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field.text("username", field_width=Fluid.TWO_THIRDS),
            Field.text("password", field_width=Fluid.TWO_THIRDS),
            Button("submit", "Sign in"),
        )


class SecondFactorForm(ErrorSummaryMixin, forms.Form):
    """One code: from the authenticator app, or (when verifying) a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        error_messages={"required": "Enter the code"},
    )

    def __init__(self, *args, help_text: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = help_text
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"}
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field.text("code", field_width=Fluid.ONE_THIRD),
            Button("submit", "Continue"),
        )
