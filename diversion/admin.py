"""Admin for the policy, exclusion factors, providers, people, encounters and referrals.

Every admin keeps history (django-simple-history), so admins see who changed what and when.
Corrections to people, encounters, referrals and reoffences need a reason, which the history
shows next to the change.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from audit.history import audit_as
from audit.models import Action
from audit.services import audit_record
from diversion.models import (
    EligibilityPolicy,
    Encounter,
    EncounterExclusion,
    EncounterReason,
    ExclusionFactor,
    Person,
    Provider,
    Referral,
    Reoffence,
    SubstanceLimit,
)
from diversion.policies import policy_is_locked
from diversion.services import outcome_date_errors, referral_due_dates_set

LOCKED_MESSAGE = (
    "Version {version} has already judged encounters, so it cannot be changed or deleted: "
    "stored decisions must always match the rules that made them. To change the rules, add a "
    "new version with a later ‘effective from’ date."
)
LEAP_DAY_HELP = (
    "Someone born on 29 February has no birthday in a non-leap year. Choose the day their age "
    "goes up instead: 1 March is UK practice (a person born on 29 February 2004 turns 18 on "
    "1 March 2022); 28 February makes them a day older sooner."
)


# --- Eligibility policy ------------------------------------------------------------------


class SubstanceLimitInline(admin.StackedInline):
    """The eligible substances and their limits; read-only once the version has judged.

    Stacked, not tabular: a tabular row's inputs have no labels of their own.
    """

    model = SubstanceLimit
    extra = 0
    min_num = 1
    verbose_name = "eligible substance and its limit (grams, inclusive)"
    verbose_name_plural = "eligible substances and their limits (grams, inclusive)"

    def get_extra(self, request: HttpRequest, obj=None, **kwargs) -> int:
        return 2 if obj is None else 0

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return not (obj is not None and policy_is_locked(obj)) and super().has_add_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return not (obj is not None and policy_is_locked(obj)) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return not (obj is not None and policy_is_locked(obj)) and super().has_delete_permission(
            request, obj
        )


class EligibilityPolicyForm(forms.ModelForm):
    class Meta:
        model = EligibilityPolicy
        fields = (
            "version",
            "effective_from",
            "min_age",
            "max_age",
            "prior_diversion_months",
            "leap_day_rule",
            "notes",
        )
        help_texts = {
            "leap_day_rule": LEAP_DAY_HELP,
            "effective_from": (
                "Encounters on or after this date are judged by this version, until a version "
                "with a later date takes over. Decisions already made are never recomputed."
            ),
            "prior_diversion_months": (
                "Not eligible if the person was diverted within this many months before the "
                "encounter."
            ),
        }


@admin.register(EligibilityPolicy)
class EligibilityPolicyAdmin(SimpleHistoryAdmin):
    """Versions of the rules: add a new version to change them; used versions are locked."""

    form = EligibilityPolicyForm
    inlines = (SubstanceLimitInline,)
    list_display = ("version", "effective_from", "min_age", "max_age", "prior_diversion_months")
    fields = EligibilityPolicyForm.Meta.fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        latest = EligibilityPolicy.objects.aggregate(latest=Max("version"))["latest"] or 0
        initial.setdefault("version", latest + 1)
        return initial

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Without change permission Django shows the version read-only, fields and inline.
        if obj is not None and policy_is_locked(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and policy_is_locked(obj):
            return False
        return super().has_delete_permission(request, obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        policy = self.get_object(request, object_id)
        if policy is not None and policy_is_locked(policy) and request.method == "GET":
            messages.warning(request, LOCKED_MESSAGE.format(version=policy.version))
        return super().change_view(request, object_id, form_url, extra_context)

    def get_deleted_objects(self, objs, request: HttpRequest):
        # Bulk "delete selected" must not reach a version that has judged encounters.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        locked = [str(p) for p in objs if policy_is_locked(p)]
        return deleted, model_count, perms_needed, list(protected) + locked


# --- Exclusion factors and providers ------------------------------------------------------


@admin.register(ExclusionFactor)
class ExclusionFactorAdmin(SimpleHistoryAdmin):
    """Factors are retired (made inactive), never deleted: old encounters still name them."""

    list_display = ("code", "label", "active", "position")
    list_filter = ("active",)
    search_fields = ("code", "label")
    fields = ("code", "label", "active", "position")

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        # Reasons are stored as "exclusion:<code>", so a code cannot change once made.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "active", "borough_names")
    list_filter = ("kind", "active", "boroughs")
    search_fields = ("name",)
    fields = ("name", "kind", "boroughs", "active")

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        # Checkboxes for the 33 boroughs: the two-list selector's icons break ARIA rules.
        if db_field.name == "boroughs":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return super().get_queryset(request).prefetch_related("boroughs")

    @admin.display(description="boroughs served")
    def borough_names(self, obj: Provider) -> str:
        return ", ".join(b.name for b in obj.boroughs.all())

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Past referrals name the provider: make it inactive instead.
        return False


# --- Corrections with a reason ------------------------------------------------------------


class CorrectionForm(forms.ModelForm):
    """A change form that asks why, so the history says who corrected what and why."""

    change_reason = forms.CharField(
        label="Reason for this correction",
        max_length=100,
        help_text="Shown in the history next to the change, for example ‘Location mistyped’.",
        error_messages={"required": "Enter the reason for this correction"},
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def clean_change_reason(self) -> str:
        reason = self.cleaned_data["change_reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason for this correction")
        return reason


class CorrectionAdmin(SimpleHistoryAdmin):
    """Saves the form's reason as the history change reason; no adding, no deleting."""

    form = CorrectionForm

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        if "change_reason" in fields:  # keep it last, next to the save button
            fields.remove("change_reason")
        if self.has_change_permission(request, obj):
            fields.append("change_reason")
        return fields

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        audit_as(obj, reason=form.cleaned_data.get("change_reason", ""))
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(CorrectionAdmin):
    """People are recorded by officers or imported; admins may correct their details."""

    list_display = ("person_ref", "last_name", "first_name", "date_of_birth", "created_at")
    search_fields = ("last_name", "person_ref", "=pseudonym", "pnc_id")
    list_filter = ("gender", "ethnicity")
    readonly_fields = ("person_ref", "pseudonym", "created_at")
    fields = (
        "person_ref",
        "pseudonym",
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "ethnicity",
        "pnc_id",
        "created_at",
    )
    show_full_result_count = False

    # Admins can read every person's details, so each look is on the audit trail.
    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        audit_record(
            by=request.user,
            action=Action.ADMIN_PERSON_LIST,
            request=request,
            detail="searched" if request.GET.get("q") else "",
        )
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        self._audit_one(request, object_id, "details")
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        self._audit_one(request, object_id, "history")
        return super().history_view(request, object_id, extra_context)

    def _audit_one(self, request: HttpRequest, object_id: str, what: str) -> None:
        people = (
            Person.objects.filter(pk=object_id) if object_id.isdigit() else Person.objects.none()
        )
        ref = people.values_list("person_ref", flat=True).first()
        audit_record(
            by=request.user,
            action=Action.ADMIN_PERSON_VIEW,
            target=f"person:{ref}" if ref else f"person-id:{object_id}",
            request=request,
            detail=what,
        )


class ReadOnlyInline(admin.TabularInline):
    """Rows stored with the decision: shown to whoever may see the parent, never edited."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        opts = self.parent_model._meta
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EncounterReasonInline(ReadOnlyInline):
    model = EncounterReason
    fields = ("position", "code")
    readonly_fields = fields
    verbose_name = "reason for the decision"
    verbose_name_plural = "reasons for the decision (in SPEC order)"


class EncounterExclusionInline(ReadOnlyInline):
    model = EncounterExclusion
    fields = ("position", "factor")
    readonly_fields = fields
    verbose_name = "exclusion factor given"
    verbose_name_plural = "exclusion factors given"


# Only these may be corrected; everything the decision rests on stays as decided.
CORRECTABLE_ENCOUNTER_FIELDS = ("occurred_at", "location", "otherwise_disposal")


@admin.register(Encounter)
class EncounterAdmin(CorrectionAdmin):
    """Encounters are logged by officers or imported. Admins correct details, with a reason.

    The facts the decision rests on (person, borough, date, substance, amount) and the decision
    itself are read-only: decisions are stored when made and never silently recomputed.
    """

    list_display = ("encounter_ref", "encounter_date", "borough", "decision", "source")
    list_filter = ("decision", "source", "borough")
    search_fields = ("encounter_ref", "person__person_ref", "person__last_name")
    date_hierarchy = "encounter_date"
    list_select_related = ("borough",)
    show_full_result_count = False
    inlines = (EncounterReasonInline, EncounterExclusionInline)
    fields = (
        "encounter_ref",
        "person",
        "borough",
        "encounter_date",
        "occurred_at",
        "location",
        "substance",
        "quantity_grams",
        "otherwise_disposal",
        "decision",
        "accepted",
        "age_at_encounter",
        "policy",
        "officer",
        "source",
        "decided_at",
        "answered_at",
        "created_at",
    )
    readonly_fields = tuple(name for name in fields if name not in CORRECTABLE_ENCOUNTER_FIELDS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Encounter]:
        return super().get_queryset(request).select_related("person", "policy", "officer")


class ReferralForm(CorrectionForm):
    """Outcome dates are checked by the same rules as the officer's form (SPEC §4)."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what clean() returns, typed as a dict
        encounter = self.instance.encounter
        errors = outcome_date_errors(
            encounter_date=encounter.encounter_date,
            attended_on=cleaned.get("attended_on"),
            completed_on=cleaned.get("completed_on"),
            did_not_attend_on=cleaned.get("did_not_attend_on"),
            withdrawn_on=cleaned.get("withdrawn_on"),
            today=timezone.localdate(),
        )
        provider = cleaned.get("provider")
        if provider is not None and provider != self.instance.provider:
            if not provider.boroughs.filter(pk=encounter.borough_id).exists():
                errors["provider"] = f"{provider.name} does not serve {encounter.borough.name}"
        appointment = cleaned.get("appointment_on")
        if appointment is not None and appointment < encounter.encounter_date:
            errors["appointment_on"] = "The appointment must be on or after the encounter date"
        for field, message in errors.items():
            if field in self.fields:
                self.add_error(field, message)
        return cleaned


@admin.register(Referral)
class ReferralAdmin(CorrectionAdmin):
    """Each diverted encounter's referral; opened by the service, never added here."""

    form = ReferralForm
    list_display = (
        "encounter",
        "provider",
        "appointment_on",
        "attended_on",
        "completed_on",
        "did_not_attend_on",
        "withdrawn_on",
        "flagged_at",
    )
    list_filter = ("provider", "encounter__borough")
    search_fields = ("encounter__encounter_ref",)
    list_select_related = ("encounter", "provider")
    show_full_result_count = False
    readonly_fields = ("encounter", "flagged_at", "created_at")
    fields = (
        "encounter",
        "provider",
        "appointment_on",
        "attended_on",
        "completed_on",
        "did_not_attend_on",
        "withdrawn_on",
        "flagged_at",
        "created_at",
    )

    def save_model(self, request: HttpRequest, obj: Referral, form, change: bool) -> None:
        # A corrected date moves the referral in the work queue, as the services' would.
        referral_due_dates_set(obj, encounter=obj.encounter)
        super().save_model(request, obj, form, change)


@admin.register(Reoffence)
class ReoffenceAdmin(CorrectionAdmin):
    """Further offences, entered by officers or imported; admins correct them with a reason."""

    list_display = ("person", "offence_date", "offence_type", "source", "source_ref")
    list_filter = ("source",)
    search_fields = ("person__person_ref", "person__last_name", "source_ref")
    date_hierarchy = "offence_date"
    list_select_related = ("person",)
    show_full_result_count = False
    readonly_fields = ("person", "source", "entered_by", "created_at")
    fields = (
        "person",
        "offence_date",
        "offence_type",
        "source_ref",
        "source",
        "entered_by",
        "created_at",
    )
