"""Officer forms, laid out with the GOV.UK Design System through crispy-forms-gds.

Forms check what a person typed (a real date, a number); the services check the rules and
their ValidationErrors are put back onto the form with `add_service_errors`.
"""

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from crispy_forms_gds.choices import Choice
from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Fieldset, Layout, Size, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils import timezone

from boroughs.models import Borough
from diversion.choices import Ethnicity, Gender, OtherwiseDisposal, Substance
from diversion.models import ExclusionFactor, Person, Provider
from diversion.validators import (
    PlainTextValidator,
    ReferenceValidator,
    birth_date_problem,
    date_from_parts,
    parse_grams,
    past_date_problem,
)

NEW_PERSON = "new"
# Choice values for people met only in other boroughs: "elsewhere-0", "elsewhere-1", ...
ELSEWHERE_PREFIX = "elsewhere-"


class GovDateField(DateInputField):
    """A GOV.UK date input (day, month, year) whose errors name the date in plain English."""

    def __init__(self, *, label: str, noun: str, required: bool = True, **kwargs) -> None:
        super().__init__(label=label, required=required, **kwargs)
        self.noun = noun
        sentence = noun[0].upper() + noun[1:]
        self.error_messages["required"] = f"Enter {noun}"
        self.error_messages["incomplete"] = f"{sentence} must include a day, month and year"
        self.real_date_message = f"{sentence} must be a real date"
        # Tie a missing day, month or year to its own box, as the Design System asks.
        self.require_all_fields = False
        for part in self.fields:
            part.required = True
            part.error_messages["incomplete"] = self.error_messages["incomplete"]
            part.validators = [RegexValidator(r"^\s*[0-9]+\s*$", self.real_date_message)]
        for box in self.widget.widgets:
            box.attrs["inputmode"] = "numeric"

    def compress(self, data_list) -> date | None:
        """Turn day, month and year into a date, refusing impossible ones plainly."""
        if not data_list or not all(data_list):
            return None
        day, month, year = data_list
        return date_from_parts(day=day, month=month, year=year, noun=self.noun)


class GramsField(forms.CharField):
    """A quantity in grams, read by the one rule for quantities (`parse_grams`)."""

    def __init__(self, *, noun: str = "quantity", **kwargs) -> None:
        super().__init__(**kwargs)
        self.noun = noun

    def to_python(self, value) -> Decimal | None:  # type: ignore[override]  # text in, grams out
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        return parse_grams(text, noun=self.noun)


def _past(value: date | None, noun: str) -> date | None:
    """Apply the one rule for recorded dates (not in the future, not before 1900)."""
    problem = value and past_date_problem(value, noun=noun)
    if problem:
        raise ValidationError(problem)
    return value


def _birth(value: date | None, noun: str) -> date | None:
    """Apply the one rule for dates of birth (in the past, not before 1900)."""
    problem = value and birth_date_problem(value, noun=noun)
    if problem:
        raise ValidationError(problem)
    return value


def add_service_errors(form: forms.Form, error: ValidationError, fields: dict[str, str]) -> None:
    """Put a service's ValidationError onto the form, field by field where it can.

    `fields` maps the service's field names to the form's; anything else becomes a
    non-field error, shown at the top of the error summary.
    """
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            target = fields.get(name, name if name in form.fields else None)
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


if TYPE_CHECKING:
    # The mixin is only ever mixed into a form; say so to the type checker alone.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class ErrorSummaryMixin(_FormBase):
    """Give the error summary a link for each error that lands on a real input.

    The package's summary links radios and checkboxes to an id no input has; the
    Design System links to the first radio, checkbox or date box, so the link moves focus.
    """

    def _error_target(self, bound: forms.BoundField, message: str) -> str:
        widget = bound.field.widget
        if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            return f"id_{bound.html_name}_1"
        if isinstance(widget, forms.MultiWidget):
            for index, part in enumerate(cast(forms.MultiValueField, bound.field).fields):
                if message in getattr(part.widget, "errors", []):
                    return f"{bound.auto_id}_{index}"
            return f"{bound.auto_id}_0"
        return bound.auto_id

    def full_clean(self) -> None:
        """Show each message once per field.

        Letters in all three boxes of a date are one mistake, but each box reports it, so
        the date would say "must be a real date" three times (issue 11).
        """
        super().full_clean()
        for errors in self.errors.values():  # full_clean() has just filled them
            kept, seen = [], set()
            for error in errors.as_data():
                text = " ".join(error.messages)
                if text not in seen:
                    seen.add(text)
                    kept.append(error)
            errors.data[:] = kept

    def error_summary(self) -> list[tuple[str, str]]:
        """Return (input id, message) pairs, non-field errors first, then fields in order."""
        visible = self.visible_fields()
        links = []
        if visible:
            first = visible[0]
            links += [(self._error_target(first, ""), str(m)) for m in self.non_field_errors()]
            # A hidden input (the borough chosen for an officer with one) has no place of its
            # own on the page, so its error leads the summary.
            hidden = [str(m) for bound in self.hidden_fields() for m in bound.errors]
            links += [(self._error_target(first, ""), m) for m in hidden]
        for bound in visible:
            links += [(self._error_target(bound, str(m)), str(m)) for m in bound.errors]
        return links


def _helper(*fields, submit: str) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # Templates write the <form>, so each can post where it must.
    helper.layout = Layout(*fields, Submit("submit", submit))
    return helper


class PersonSearchForm(ErrorSummaryMixin, forms.Form):
    """Find a person already recorded, before logging their encounter."""

    last_name = forms.CharField(
        label="Surname",
        max_length=100,
        validators=[PlainTextValidator("the surname")],
        error_messages={"required": "Enter the person's surname"},
    )
    date_of_birth = GovDateField(label="Date of birth", noun="the person's date of birth")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date_of_birth"].help_text = "For example, 27 3 2004"
        self.fields["last_name"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.helper = _helper(
            Field.text("last_name", field_width=20),
            Field("date_of_birth"),
            submit="Find person",
        )

    def clean_date_of_birth(self) -> date | None:
        return _birth(self.cleaned_data["date_of_birth"], "the date of birth")


class PersonChooseForm(ErrorSummaryMixin, forms.Form):
    """Choose the matching person, or say that none of them is the person met."""

    person = forms.ChoiceField(
        label="Is this the person you met?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the person you met, or add a new person"},
    )

    def __init__(self, *args, people: Iterable[Person], elsewhere: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            Choice(
                person.person_ref,
                f"{person.first_name} {person.last_name}",
                hint=f"Born {person.date_of_birth:%-d %B %Y}"
                + (f", PNC ID {person.pnc_id}" if person.pnc_id else ", no PNC ID recorded"),
            )
            for person in people
        ]
        # People met only in other boroughs: no details until chosen (see views).
        choices += [
            Choice(
                f"{ELSEWHERE_PREFIX}{index}",
                "A person with this name and date of birth is already known",
                hint="Recorded in another borough. Their details are shown once you choose "
                "them, and your choice is recorded.",
            )
            for index in range(elsewhere)
        ]
        if choices:
            choices[-1].divider = "or"
        choices.append(Choice(NEW_PERSON, "None of these: add a new person"))
        cast(forms.ChoiceField, self.fields["person"]).choices = choices
        self.helper = _helper(Field.radios("person", legend_size=Size.MEDIUM), submit="Continue")


class PersonForm(ErrorSummaryMixin, forms.Form):
    """A new person's details, recorded with their first encounter."""

    first_name = forms.CharField(
        label="First name",
        max_length=100,
        validators=[PlainTextValidator("the first name")],
        error_messages={"required": "Enter a first name"},
    )
    last_name = forms.CharField(
        label="Surname",
        max_length=100,
        validators=[PlainTextValidator("the surname")],
        error_messages={"required": "Enter a surname"},
    )
    date_of_birth = GovDateField(label="Date of birth", noun="a date of birth")
    gender = forms.ChoiceField(
        label="Gender",
        choices=Gender.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select a gender, or not stated"},
    )
    ethnicity = forms.ChoiceField(
        label="Self-defined ethnicity",
        choices=[("", "Select ethnicity")]
        + [(code, f"{code} {label}") for code, label in Ethnicity.choices],
        error_messages={"required": "Select the person's self-defined ethnicity, or not stated"},
    )
    pnc_id = forms.CharField(
        label="PNC ID (optional)",
        max_length=20,
        required=False,
        validators=[PlainTextValidator("the PNC ID")],
        help_text="Police National Computer ID, if the person has one",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date_of_birth"].help_text = "For example, 27 3 2004"
        for name in ("first_name", "last_name", "pnc_id"):
            self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.helper = _helper(
            Field.text("first_name", field_width=20),
            Field.text("last_name", field_width=20),
            Field("date_of_birth"),
            Field.radios("gender", legend_size=Size.SMALL, small=True),
            Field.select("ethnicity"),
            Field.text("pnc_id", field_width=10),
            submit="Continue",
        )

    def clean_date_of_birth(self) -> date | None:
        return _birth(self.cleaned_data["date_of_birth"], "the date of birth")


def borough_hint(borough: Borough) -> str:
    """Say what an encounter in this borough leads to: a pilot (with its dates) or not."""
    if borough.role == Borough.Role.PILOT:
        start = f"{borough.pilot_start:%-d %B %Y}"
        if borough.pilot_end:
            return f"Pilot borough, {start} to {borough.pilot_end:%-d %B %Y}"
        return f"Pilot borough, from {start}"
    return "Comparison borough: encounters are recorded, diversion is not offered"


class EncounterForm(ErrorSummaryMixin, forms.Form):
    """What happened at the encounter: everything the decision depends on."""

    borough = forms.ModelChoiceField(
        label="Borough",
        queryset=Borough.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Select the borough where you met the person",
            "invalid_choice": "Select one of your boroughs",
        },
    )
    encounter_date = GovDateField(label="Date of the encounter", noun="the date of the encounter")
    encounter_time = forms.CharField(
        label="Time of the encounter",
        max_length=5,
        help_text="Use the 24-hour clock, for example 14:30",
        error_messages={"required": "Enter the time of the encounter"},
    )
    location = forms.CharField(
        label="Location",
        max_length=200,
        validators=[PlainTextValidator("the location")],
        help_text="For example, the street or the park",
        error_messages={"required": "Enter where you met the person"},
    )
    substance = forms.ChoiceField(
        label="Substance found",
        choices=Substance.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the substance found"},
    )
    quantity_grams = GramsField(
        label="Quantity in grams",
        help_text="Up to 3 decimal places, for example 3.5",
        error_messages={"required": "Enter the quantity in grams"},
    )
    exclusions = forms.MultipleChoiceField(
        label="Exclusion factors present",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. Leave blank if none apply.",
    )
    otherwise_disposal = forms.ChoiceField(
        label="What would the person otherwise have received?",
        choices=OtherwiseDisposal.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the person would otherwise have received"},
    )

    #: Service field name -> form field name, for putting service errors in the right place.
    SERVICE_FIELDS = {"occurred_at": "encounter_time"}

    def __init__(
        self,
        *args,
        boroughs: QuerySet[Borough],
        factors: QuerySet[ExclusionFactor],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        borough_field = Field.radios("borough", legend_size=Size.SMALL, small=True)
        self._set_boroughs(boroughs)
        if self.single_borough is not None:
            borough_field = Field("borough")
        self._factor_codes = [f.code for f in factors]
        cast(forms.ChoiceField, self.fields["exclusions"]).choices = [
            (f.code, f.label) for f in factors
        ]
        now = timezone.localtime()
        self.fields["encounter_date"].initial = now.date()
        self.fields["encounter_time"].initial = f"{now:%H:%M}"
        self.fields["encounter_date"].help_text = "For example, 27 3 2026"
        self.fields["quantity_grams"].widget = forms.TextInput(
            attrs={"inputmode": "decimal", "spellcheck": "false", "autocomplete": "off"}
        )
        self.fields["encounter_time"].widget.attrs.update(
            inputmode="numeric", autocomplete="off", spellcheck="false"
        )
        self.helper = _helper(
            borough_field,
            Field("encounter_date"),
            Field.text("encounter_time", field_width=5),
            Field.text("location", field_width=20),
            Field.radios("substance", legend_size=Size.SMALL, small=True),
            Field.text("quantity_grams", field_width=5),
            Field.checkboxes("exclusions", legend_size=Size.SMALL, small=True),
            Field.radios("otherwise_disposal", legend_size=Size.SMALL, small=True),
            submit="Record encounter",
        )

    def _set_boroughs(self, boroughs: QuerySet[Borough]) -> None:
        """Offer the officer's boroughs, each saying whether it diverts; one is chosen for them.

        An officer with a single borough has nothing to choose: it is sent as a hidden input
        and the page names it (``single_borough``).
        """
        field = cast(forms.ModelChoiceField, self.fields["borough"])
        field.queryset = boroughs
        listed = list(boroughs)
        self.single_borough = listed[0] if len(listed) == 1 else None
        if self.single_borough is not None:
            field.widget = forms.HiddenInput()
            field.initial = self.single_borough.pk
            return
        field.choices = [Choice(b.pk, b.name, hint=borough_hint(b)) for b in listed]

    def clean_encounter_date(self) -> date | None:
        return _past(self.cleaned_data["encounter_date"], "the date of the encounter")

    def clean_encounter_time(self) -> time:
        value = self.cleaned_data["encounter_time"].strip().replace(".", ":")
        try:
            return datetime.strptime(value, "%H:%M").time()
        except ValueError:
            raise ValidationError("Enter the time using the 24-hour clock, like 14:30") from None

    def clean_exclusions(self) -> list[str]:
        """Keep the factors in the form's order, whatever order the browser sends them in."""
        chosen = set(self.cleaned_data["exclusions"])
        return [code for code in self._factor_codes if code in chosen]

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data  # what clean() returns, typed as a dict
        day, at = cleaned.get("encounter_date"), cleaned.get("encounter_time")
        if day and at:
            occurred_at = timezone.make_aware(datetime.combine(day, at))
            cleaned["occurred_at"] = occurred_at
            if day == timezone.localdate() and occurred_at > timezone.now():
                self.add_error("encounter_time", "The time of the encounter must be in the past")
        return cleaned


class AnswerForm(ErrorSummaryMixin, forms.Form):
    """The person's answer to the offer of diversion."""

    accepted = forms.TypedChoiceField(
        label="Did the person accept diversion?",
        choices=[("yes", "Yes, they accepted diversion"), ("no", "No, they declined")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if the person accepted diversion"},
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "answer")
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Field.radios("accepted", legend_size=Size.MEDIUM), submit="Save answer"
        )


class ReferralArrangeForm(ErrorSummaryMixin, forms.Form):
    """The provider the person is referred to, and their first appointment."""

    provider = forms.ModelChoiceField(
        label="Provider",
        queryset=Provider.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Select the provider you are referring the person to",
            "invalid_choice": "Select a provider that takes referrals from this borough",
        },
    )
    appointment_on = GovDateField(
        label="Appointment date (optional)", noun="the appointment date", required=False
    )

    def __init__(self, *args, providers: QuerySet[Provider], **kwargs) -> None:
        kwargs.setdefault("prefix", "referral")
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["provider"]).queryset = providers
        self.fields["appointment_on"].help_text = "For example, 27 3 2026"
        self.helper = _helper(
            Field.radios("provider", legend_size=Size.SMALL, small=True),
            Field("appointment_on"),
            submit="Arrange referral",
        )


class OutcomeForm(ErrorSummaryMixin, forms.Form):
    """The referral's outcome dates; leave blank what has not happened."""

    attended_on = GovDateField(label="Attended", noun="the date attended", required=False)
    completed_on = GovDateField(label="Completed", noun="the date completed", required=False)
    did_not_attend_on = GovDateField(
        label="Did not attend", noun="the date they did not attend", required=False
    )
    withdrawn_on = GovDateField(label="Withdrawn", noun="the date withdrawn", required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "outcome")
        super().__init__(*args, **kwargs)
        self.fields["attended_on"].help_text = "The date the person first attended"
        self.fields[
            "did_not_attend_on"
        ].help_text = "The date the provider said the person did not engage"
        self.helper = _helper(
            Fieldset(
                Field("attended_on"),
                Field("completed_on"),
                Field("did_not_attend_on"),
                Field("withdrawn_on"),
                legend="Outcome dates",
                legend_size=Size.MEDIUM,
            ),
            submit="Save outcome",
        )


class ReoffenceForm(ErrorSummaryMixin, forms.Form):
    """A further offence of the person, known to the officer."""

    offence_date = GovDateField(label="Date of the offence", noun="the date of the offence")
    offence_type = forms.CharField(
        label="Type of offence",
        max_length=200,
        validators=[PlainTextValidator("the type of offence")],
        help_text="For example, possession of cannabis or theft",
        error_messages={"required": "Enter the type of offence"},
    )
    source_ref = forms.CharField(
        label="Source reference (optional)",
        max_length=100,
        required=False,
        validators=[PlainTextValidator("the source reference")],
        help_text="For example, the crime or custody reference",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "reoffence")
        super().__init__(*args, **kwargs)
        self.fields["offence_date"].help_text = "For example, 27 3 2026"
        self.helper = _helper(
            Field("offence_date"),
            Field.text("offence_type", field_width=20),
            Field.text("source_ref", field_width=10),
            submit="Record further offence",
        )

    def clean_offence_date(self) -> date | None:
        return _past(self.cleaned_data["offence_date"], "the date of the offence")


class EncounterSearchForm(ErrorSummaryMixin, forms.Form):
    """Find an encounter by its reference, or by the person's surname and date of birth."""

    encounter_ref = forms.CharField(
        label="Encounter reference",
        max_length=64,
        required=False,
        validators=[ReferenceValidator("the encounter reference")],
        help_text="For example, ENC-7K2M9QXA",
    )
    last_name = forms.CharField(
        label="Surname",
        max_length=100,
        required=False,
        validators=[PlainTextValidator("the surname")],
    )
    date_of_birth = GovDateField(label="Date of birth", noun="the date of birth", required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "search")
        super().__init__(*args, **kwargs)
        self.fields["encounter_ref"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.fields["last_name"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.helper = _helper(
            Field.text("encounter_ref", field_width=10),
            Fieldset(
                Field.text("last_name", field_width=20),
                Field("date_of_birth"),
                legend="Or search by surname and date of birth",
                legend_size=Size.SMALL,
            ),
            submit="Search",
        )

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data  # what clean() returns, typed as a dict
        if self.errors or cleaned.get("encounter_ref", "").strip():
            return cleaned
        last_name, date_of_birth = (
            cleaned.get("last_name", "").strip(),
            cleaned.get("date_of_birth"),
        )
        if not last_name and not date_of_birth:
            self.add_error(
                "encounter_ref", "Enter an encounter reference, or a surname and date of birth"
            )
        elif not last_name:
            self.add_error("last_name", "Enter a surname to search with the date of birth")
        elif not date_of_birth:
            self.add_error("date_of_birth", "Enter a date of birth to search with the surname")
        return cleaned


QUEUE_ORDER_CHOICES = [("most", "Most overdue first"), ("least", "Least overdue first")]


class ReferralQueueForm(forms.Form):
    """Filter and order the referrals needing action; sent with GET, so links can be shared."""

    borough = forms.ModelChoiceField(
        label="Borough",
        queryset=Borough.objects.none(),
        required=False,
        empty_label="All your boroughs",
        error_messages={"invalid_choice": "Select one of your boroughs"},
    )
    due = forms.ChoiceField(label="What is due", required=False)
    order = forms.ChoiceField(label="Order", choices=QUEUE_ORDER_CHOICES, required=False)
    after = forms.RegexField(
        regex=r"^[0-9]{1,6}\.[0-9]{1,9}$",
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "The page link is not valid: start from the first page"},
    )

    def __init__(self, *args, boroughs: QuerySet[Borough], due_choices: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["borough"])
        field.queryset = boroughs
        # One query for the list, rather than a count and a query each time it is drawn.
        field.choices = [("", field.empty_label)] + [(b.pk, b.name) for b in boroughs]
        cast(forms.ChoiceField, self.fields["due"]).choices = [("", "Anything due"), *due_choices]

    def filters(self) -> dict:
        """Return the chosen filters for the selectors, or none when something is wrong."""
        if not self.is_valid():
            return {"borough_id": None, "due": "", "most_overdue_first": True, "after": None}
        data = self.cleaned_data
        after = tuple(int(part) for part in data["after"].split(".")) if data["after"] else None
        return {
            "borough_id": data["borough"].pk if data["borough"] else None,
            "due": data["due"],
            "most_overdue_first": data["order"] != "least",
            "after": after,
        }
