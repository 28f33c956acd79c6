"""Forms for building, deciding and importing; they turn bad input into plain-English errors."""

import codecs
from typing import cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from diversion.validators import PlainTextValidator
from reports.import_jobs import MAX_UPLOAD_BYTES
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
