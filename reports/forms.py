"""Forms for building, deciding and importing; they turn bad input into plain-English errors."""

import codecs
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from diversion.validators import PlainTextValidator
from reports.import_jobs import MAX_UPLOAD_BYTES
from reports.selectors import ALL, ReoffendingFilter
from reports.weeks import WeekError, parse_week, week_just_ended, week_of


def default_week() -> str:
    """Return the week just ended, in Europe/London."""
    return week_just_ended(timezone.localdate())


class BuildReportForm(forms.Form):
    week = forms.CharField(
        label="Week",
        help_text="An ISO week, for example 2026-W10",
        max_length=8,
        error_messages={"required": "Enter the week to build the report for"},
    )

    def clean_week(self) -> str:
        week = self.cleaned_data["week"].strip().upper()
        try:
            _monday, sunday = parse_week(week)
        except WeekError as error:
            raise forms.ValidationError(str(error)) from error
        if sunday >= timezone.localdate():
            raise forms.ValidationError(
                f"Enter a week that has ended, for example {default_week()}"
            )
        return week


class DecisionForm(forms.Form):
    APPROVE = "approve"
    RETURN = "return"

    decision = forms.ChoiceField(
        label="Your decision",
        choices=[(APPROVE, "Approve the report"), (RETURN, "Return it to the analysts")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to approve or return the report"},
    )
    comment = forms.CharField(
        label="Comment",
        help_text="Needed when you return the report: say what needs to change",
        required=False,
        max_length=2000,
        validators=[PlainTextValidator("the comment", multiline=True)],
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "The comment must be 2,000 characters or fewer"},
    )

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data  # what clean() returns, typed as a dict
        if cleaned.get("decision") == self.RETURN and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", "Enter a comment saying why you are returning the report")
        return cleaned


class ReoffenceUploadForm(forms.Form):
    file = forms.FileField(
        label="Upload a file",
        help_text=(
            "A CSV file with the columns person_ref, offence_date, offence_type, source_ref. "
            "The file must be 10 MB or smaller."
        ),
        error_messages={
            "required": "Select a CSV file of reoffence matches",
            "empty": "The selected file is empty",
        },
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                "The selected file must be 10 MB or smaller. "
                "Split it into smaller files and upload each one."
            )
        # Check the encoding a chunk at a time, so the text is never held whole in memory.
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in upload.chunks():
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise forms.ValidationError(
                "The selected file must be a CSV file saved as UTF-8"
            ) from error
        upload.seek(0)
        return upload


class TrendsForm(forms.Form):
    """Choose the last week and the borough the trends page shows (a GET form)."""

    week = forms.CharField(
        label="Up to week",
        help_text="An ISO week, for example 2026-W10. Leave it empty for the week just ended.",
        max_length=8,
        required=False,
    )
    borough = forms.ChoiceField(label="Borough", required=False)

    def __init__(self, *args, boroughs: list[tuple[str, str]], first_week: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.first_week = first_week
        cast(forms.ChoiceField, self.fields["borough"]).choices = [
            ("ALL", "All boroughs"),
            *boroughs,
        ]
        self.fields["borough"].error_messages["invalid_choice"] = "Select a borough from the list"

    def clean_week(self) -> str:
        week = (self.cleaned_data.get("week") or "").strip().upper()
        if not week:
            return max(default_week(), self.first_week)
        try:
            parse_week(week)
        except WeekError as error:
            raise forms.ValidationError(str(error)) from error
        this_week = week_of(timezone.localdate())
        if week > this_week:
            raise forms.ValidationError(f"Enter a week up to this week, {this_week}")
        if week < self.first_week:
            raise forms.ValidationError(
                f"Enter a week from {self.first_week}, the first week of the pilot, onwards"
            )
        return week

    def clean_borough(self) -> str:
        return self.cleaned_data.get("borough") or "ALL"


class ReoffendingFilterForm(forms.Form):
    """Choose which rows of the report page's reoffending table to show (a GET form).

    The values only ever come from the page's own lists, so one that is not on a list was
    typed into the address: it is ignored (every value of that field is shown) and the page
    says so, rather than refusing the whole report.
    """

    borough = forms.ChoiceField(label="Borough", required=False)
    months = forms.TypedChoiceField(
        label="Months followed",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any"), ("3", "3 months"), ("6", "6 months"), ("12", "12 months")],
    )
    group = forms.ChoiceField(
        label="Group",
        required=False,
        choices=[("", "Both groups"), ("diverted", "Diverted"), ("comparison", "Comparison")],
    )

    IGNORED = {
        "borough": "The borough in the web address is not on the list, so every borough is shown.",
        "months": "The months in the web address are not on the list, so every period is shown.",
        "group": "The group in the web address is not on the list, so both groups are shown.",
    }

    def __init__(self, *args, boroughs: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        named = [
            (code, "All boroughs (totals)" if code == ALL else name) for code, name in boroughs
        ]
        cast(forms.ChoiceField, self.fields["borough"]).choices = [("", "Any"), *named]

    def chosen(self) -> ReoffendingFilter:
        """Return the valid choices; a field whose value is not on its list is left out."""
        self.is_valid()
        cleaned = self.cleaned_data
        return ReoffendingFilter(
            borough=cleaned.get("borough") or "",
            months=cleaned.get("months"),
            group=cleaned.get("group") or "",
        )

    def options(self) -> list[tuple[str, str, list[tuple[Any, str]]]]:
        """Return each select's name, label and (value, text) options, for the page to draw."""
        return [
            (name, str(field.label), list(cast(Iterable, cast(forms.ChoiceField, field).choices)))
            for name, field in self.fields.items()
        ]

    def ignored(self) -> list[str]:
        """Say which values in the address were ignored, one sentence each."""
        self.is_valid()
        return [self.IGNORED[name] for name in self.fields if name in self.errors]
