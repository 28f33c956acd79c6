"""Officer pages: log an encounter, see its decision, follow the referral to its outcome.

Views stay thin: they check the officer may act, call one selector or service, and render or
redirect. Records outside the officer's boroughs are "not found" (404), never "forbidden".
"""

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.models import Action
from audit.services import audit_record
from boroughs.models import Borough
from boroughs.selectors import boroughs_for_officer
from config.typing import AuthenticatedHttpRequest
from diversion import selectors, services
from diversion.choices import Decision, ReferralStatus
from diversion.eligibility import describe_reason, in_pilot
from diversion.forms import (
    ELSEWHERE_PREFIX,
    NEW_PERSON,
    AnswerForm,
    EncounterForm,
    EncounterSearchForm,
    OutcomeForm,
    PersonChooseForm,
    PersonForm,
    PersonSearchForm,
    ReferralArrangeForm,
    ReferralQueueForm,
    ReoffenceForm,
    add_service_errors,
    borough_hint,
)
from diversion.models import Encounter, Person, Referral
from diversion.policies import as_rule
from diversion.referral_status import appointment_passed, due_choices
from diversion.search_limits import limit_message, search_allowed

# The encounter being logged, kept in the session between the steps so that nothing is
# saved until the encounter itself is: {"last_name", "date_of_birth", "person_ref" or
# "new_person"}.
SESSION_KEY = "diversion_new_encounter"
PERMISSION = "boroughs.log_encounters"

STATUS_TEXT: dict[str | None, str] = {
    ReferralStatus.REFERRED: "Referred: waiting for the person to attend",
    ReferralStatus.ATTENDED: "Attended",
    ReferralStatus.COMPLETED: "Completed",
    ReferralStatus.DID_NOT_ATTEND: "Accepted diversion but did not attend",
    ReferralStatus.WITHDRAWN: "Withdrawn",
}
STATUS_TAG: dict[str | None, str] = {
    ReferralStatus.REFERRED: "govuk-tag--blue",
    ReferralStatus.ATTENDED: "govuk-tag--turquoise",
    ReferralStatus.COMPLETED: "govuk-tag--green",
    ReferralStatus.DID_NOT_ATTEND: "govuk-tag--red",
    ReferralStatus.WITHDRAWN: "govuk-tag--grey",
}


def officer_required(view: Callable) -> Callable:
    """Let only people allowed to log encounters in; everyone else gets 403."""

    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied("Only officers can use these pages")
        return view(request, *args, **kwargs)

    return wrapped


# --- Logging an encounter: find the person, choose or add them, then the encounter -----------


def _state(request: AuthenticatedHttpRequest) -> dict:
    return dict(request.session.get(SESSION_KEY) or {})


def _save_state(request: AuthenticatedHttpRequest, state: dict) -> None:
    request.session[SESSION_KEY] = state


def _search_allowed(request: AuthenticatedHttpRequest, form) -> bool:
    """Count a search against the officer's hourly limit; explain on the form if over it."""
    if search_allowed(user=request.user):
        return True
    audit_record(by=request.user, action=Action.SEARCH_LIMITED, request=request)
    form.add_error(None, limit_message())
    return False


@officer_required
def encounter_find(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Step 1: look the person up by surname and date of birth, so no one is recorded twice."""
    state = _state(request)
    if request.method == "POST":
        form = PersonSearchForm(request.POST)
        if form.is_valid() and not _search_allowed(request, form):
            return render(request, "diversion/encounter_find.html", {"form": form}, status=429)
        if form.is_valid():
            _save_state(
                request,
                {
                    "last_name": form.cleaned_data["last_name"].strip(),
                    "date_of_birth": form.cleaned_data["date_of_birth"].isoformat(),
                },
            )
            return redirect("diversion:encounter_choose")
    else:
        initial = {}
        if state.get("last_name"):
            initial = {
                "last_name": state["last_name"],
                "date_of_birth": date.fromisoformat(state["date_of_birth"]),
            }
        form = PersonSearchForm(initial=initial)
    return render(request, "diversion/encounter_find.html", {"form": form})


@officer_required
def encounter_choose(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Step 2: choose the person from everyone with that surname and date of birth."""
    state = _state(request)
    if not state.get("last_name"):
        return redirect("diversion:encounter_find")
    date_of_birth = date.fromisoformat(state["date_of_birth"])
    matches = selectors.people_matching_for_officer(
        user=request.user, last_name=state["last_name"], date_of_birth=date_of_birth
    )
    form = PersonChooseForm(
        request.POST if request.method == "POST" else None,
        people=matches.here,
        elsewhere=len(matches.elsewhere),
    )
    if request.method == "POST" and form.is_valid():
        return _chosen(request, state, matches, form.cleaned_data["person"])
    audit_record(
        by=request.user,
        action=Action.PERSON_MATCH,
        target=",".join(f"person:{p.person_ref}" for p in matches.here),
        request=request,
        detail=f"in your boroughs: {len(matches.here)}; elsewhere: {len(matches.elsewhere)}",
    )
    context = {
        "form": form,
        "people": matches.here + matches.elsewhere,
        "elsewhere": matches.elsewhere,
        "last_name": state["last_name"],
        "date_of_birth": date_of_birth,
    }
    return render(request, "diversion/encounter_choose.html", context)


def _chosen(
    request: AuthenticatedHttpRequest, state: dict, matches: selectors.PeopleMatches, choice: str
) -> HttpResponse:
    """Remember the person chosen; a choice from another borough is audited, as it shows
    their details for the first time."""
    state.pop("person_ref", None)
    state.pop("new_person", None)
    if choice == NEW_PERSON:
        _save_state(request, state)
        return redirect("diversion:encounter_person_new")
    if choice.startswith(ELSEWHERE_PREFIX):
        person = matches.elsewhere[int(choice.removeprefix(ELSEWHERE_PREFIX))]
        choice = person.person_ref
        audit_record(
            by=request.user, action=Action.PERSON_CHOOSE, target=f"person:{choice}", request=request
        )
    state["person_ref"] = choice
    _save_state(request, state)
    return redirect("diversion:encounter_details")


@officer_required
def encounter_person_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Step 2 (someone new): the person's details, saved only with their encounter."""
    state = _state(request)
    if request.method == "POST":
        form = PersonForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            state.pop("person_ref", None)
            state["new_person"] = {
                "first_name": data["first_name"].strip(),
                "last_name": data["last_name"].strip(),
                "date_of_birth": data["date_of_birth"].isoformat(),
                "gender": data["gender"],
                "ethnicity": data["ethnicity"],
                "pnc_id": data["pnc_id"].strip(),
            }
            _save_state(request, state)
            return redirect("diversion:encounter_details")
    else:
        initial: dict = {}
        if state.get("new_person"):
            initial = dict(state["new_person"])
            initial["date_of_birth"] = date.fromisoformat(initial["date_of_birth"])
        elif state.get("last_name"):
            initial = {
                "last_name": state["last_name"],
                "date_of_birth": date.fromisoformat(state["date_of_birth"]),
            }
        form = PersonForm(initial=initial)
    return render(request, "diversion/encounter_person_new.html", {"form": form})


def _person_being_logged(state: dict) -> tuple[Person | None, dict | None]:
    """Return the chosen person, or the new person's details, from the session."""
    if state.get("person_ref"):
        return Person.objects.filter(person_ref=state["person_ref"]).first(), None
    if state.get("new_person"):
        details = dict(state["new_person"])
        details["date_of_birth"] = date.fromisoformat(details["date_of_birth"])
        return None, details
    return None, None


@officer_required
def encounter_details(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Step 3: what happened. Records the person (if new) and the encounter together."""
    state = _state(request)
    person, new_person = _person_being_logged(state)
    if person is None and new_person is None:
        return redirect("diversion:encounter_find")
    boroughs = selectors.encounter_boroughs_for_officer(user=request.user)
    factors = selectors.exclusion_factors_active()
    posted = request.POST if request.method == "POST" else None
    form = EncounterForm(posted, boroughs=boroughs, factors=factors)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields: dict[str, Any] = {
            "borough": data["borough"],
            "encounter_date": data["encounter_date"],
            "occurred_at": data["occurred_at"],
            "location": data["location"],
            "substance": data["substance"],
            "quantity_grams": data["quantity_grams"],
            "exclusions": data["exclusions"],
            "otherwise_disposal": data["otherwise_disposal"],
        }
        try:
            if person is not None:
                encounter = services.encounter_record(by=request.user, person=person, **fields)
            else:
                encounter = services.encounter_record_for_new_person(
                    by=request.user, person_details=new_person or {}, **fields
                )
        except ValidationError as error:
            add_service_errors(form, error, EncounterForm.SERVICE_FIELDS)
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, f"Encounter {encounter.encounter_ref} recorded")
            return redirect(encounter)
    context = {
        "form": form,
        "person": person,
        "new_person": new_person,
        "boroughs": boroughs,
        "single_borough_hint": borough_hint(form.single_borough) if form.single_borough else "",
    }
    return render(request, "diversion/encounter_details.html", context)


# --- The decision page and what follows it -------------------------------------------------


def _decision_text(encounter: Encounter, status: ReferralStatus | None) -> tuple[str, str]:
    """Return the decision's headline and a sentence explaining it, in plain English."""
    borough = encounter.borough
    if encounter.decision == Decision.INELIGIBLE:
        return (
            "Not eligible for diversion",
            "The person does not meet the rules for diversion, for these reasons:",
        )
    if encounter.decision == Decision.OFFERED:
        return (
            "Diversion offered",
            "The person is eligible. Offer them diversion and record their answer below.",
        )
    if encounter.decision == Decision.DECLINED:
        return (
            "Diversion declined",
            "The person was offered diversion and said no, so they were dealt with as they "
            "otherwise would have been.",
        )
    if encounter.decision == Decision.DIVERTED:
        if status == ReferralStatus.DID_NOT_ATTEND:
            return (
                "Accepted diversion but did not engage",
                "The person accepted diversion, but did not attend the provider.",
            )
        return ("Diverted", "The person accepted diversion and is referred to a provider.")
    # Not offered: a comparison borough, or a pilot borough outside its pilot dates.
    if borough.role == Borough.Role.COMPARISON:
        why = f"{borough.name} is a comparison borough: it records encounters but does not divert."
    elif not in_pilot(
        borough.role, borough.pilot_start, borough.pilot_end, encounter.encounter_date
    ):
        why = f"The encounter was outside {borough.name}'s pilot dates."
    else:
        why = f"{borough.name} was not offering diversion on the encounter date."
    return ("Eligible, but diversion not offered", why)


APPOINTMENT_PASSED_TEXT = "Appointment passed: no attendance recorded"


def _status_display(referral: Referral | None, status: ReferralStatus | None) -> dict:
    """Return the status tag's words and colour; a passed appointment is not "waiting"."""
    passed = (
        referral is not None
        and status == ReferralStatus.REFERRED
        and appointment_passed(
            appointment_on=referral.appointment_on,
            attended_on=referral.attended_on,
            ended=False,
            day=timezone.localdate(),
        )
    )
    if passed:
        return {
            "appointment_passed": True,
            "status_text": APPOINTMENT_PASSED_TEXT,
            "status_tag": "govuk-tag--orange",
        }
    return {
        "appointment_passed": False,
        "status_text": STATUS_TEXT.get(status, ""),
        "status_tag": STATUS_TAG.get(status, ""),
    }


def _detail_context(
    encounter: Encounter,
    *,
    answer_form: AnswerForm | None = None,
    arrange_form: ReferralArrangeForm | None = None,
    outcome_form: OutcomeForm | None = None,
) -> dict:
    rule = as_rule(encounter.policy)
    labels = selectors.exclusion_labels()
    reasons = [
        describe_reason(code, rule, labels, substance=encounter.substance)
        for code in encounter.reasons.order_by("position").values_list("code", flat=True)
    ]
    exclusions = [
        link.factor.label
        for link in encounter.exclusion_links.select_related("factor").order_by("position")
    ]
    referral: Referral | None = getattr(encounter, "referral", None)
    status = None
    providers = None
    if referral is not None:
        status = services.referral_status_today(referral)
        providers = selectors.providers_for_borough(borough=encounter.borough)
        arrange_form = arrange_form or ReferralArrangeForm(
            providers=providers,
            initial={"provider": referral.provider_id, "appointment_on": referral.appointment_on},
        )
        outcome_form = outcome_form or OutcomeForm(
            initial={
                "attended_on": referral.attended_on,
                "completed_on": referral.completed_on,
                "did_not_attend_on": referral.did_not_attend_on,
                "withdrawn_on": referral.withdrawn_on,
            }
        )
    if encounter.decision == Decision.OFFERED:
        answer_form = answer_form or AnswerForm()
    else:
        answer_form = None
    title, explanation = _decision_text(encounter, status)
    forms = [f for f in (answer_form, arrange_form, outcome_form) if f is not None]
    return {
        "encounter": encounter,
        "person": encounter.person,
        "decision_title": title,
        "decision_explanation": explanation,
        "reasons": reasons,
        "exclusions": exclusions,
        "referral": referral,
        "status": status,
        **_status_display(referral, status),
        "providers": providers,
        "answer_form": answer_form,
        "arrange_form": arrange_form,
        "outcome_form": outcome_form,
        "has_errors": any(f.is_bound and f.errors for f in forms),
    }


@officer_required
def encounter_detail(request: AuthenticatedHttpRequest, encounter_ref: str) -> HttpResponse:
    """Show the decision with every reason, and the next step for the officer."""
    encounter = selectors.encounter_for_officer(user=request.user, encounter_ref=encounter_ref)
    audit_record(
        by=request.user,
        action=Action.ENCOUNTER_VIEW,
        target=f"encounter:{encounter.encounter_ref}",
        request=request,
    )
    return render(request, "diversion/encounter_detail.html", _detail_context(encounter))


ANSWER_MESSAGES: dict[str, str] = {
    Decision.DIVERTED: "Diversion accepted. Now arrange the referral.",
    Decision.DECLINED: "Recorded that the person declined diversion",
}
# Shown when the answer's re-check overrules the offer, most often because the person was
# diverted at another encounter while this one awaited its answer.
ANSWER_OVERRULED = (
    "Diversion cannot go ahead. The encounter was checked again when you recorded the answer, "
    "and diversion can no longer be offered. See the decision below."
)


@require_POST
@officer_required
def encounter_answer(request: AuthenticatedHttpRequest, encounter_ref: str) -> HttpResponse:
    """Record whether the person accepted the diversion offered."""
    encounter = selectors.encounter_for_officer(user=request.user, encounter_ref=encounter_ref)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            encounter = services.encounter_answer(
                encounter=encounter, accepted=form.cleaned_data["accepted"], by=request.user
            )
        except ValidationError as error:
            # Already answered (a second tab, a double tap): say so on the decision page.
            messages.info(request, " ".join(error.messages))
            return redirect(encounter)
        else:
            # The decision, not the answer: judged again, the answer may no longer divert.
            if encounter.decision in ANSWER_MESSAGES:
                messages.success(request, ANSWER_MESSAGES[encounter.decision])
            else:
                messages.info(request, ANSWER_OVERRULED)
            return redirect(encounter)
    context = _detail_context(encounter, answer_form=form)
    return render(request, "diversion/encounter_detail.html", context)


def _referral_for(
    request: AuthenticatedHttpRequest, encounter_ref: str
) -> tuple[Encounter, Referral]:
    # The selector already joined the referral, so this costs no further query.
    encounter = selectors.encounter_for_officer(user=request.user, encounter_ref=encounter_ref)
    referral: Referral | None = getattr(encounter, "referral", None)
    if referral is None:
        raise Http404("This encounter has no referral")
    return encounter, referral


@require_POST
@officer_required
def referral_arrange(request: AuthenticatedHttpRequest, encounter_ref: str) -> HttpResponse:
    """Refer the person to a provider serving the borough, with an appointment date."""
    encounter, referral = _referral_for(request, encounter_ref)
    providers = selectors.providers_for_borough(borough=encounter.borough)
    form = ReferralArrangeForm(request.POST, providers=providers)
    if form.is_valid():
        try:
            services.referral_arrange(
                referral=referral,
                provider=form.cleaned_data["provider"],
                appointment_on=form.cleaned_data["appointment_on"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error, {})
        else:
            messages.success(request, f"Referral to {form.cleaned_data['provider']} saved")
            return redirect(encounter)
    context = _detail_context(encounter, arrange_form=form)
    return render(request, "diversion/encounter_detail.html", context)


@require_POST
@officer_required
def referral_outcome(request: AuthenticatedHttpRequest, encounter_ref: str) -> HttpResponse:
    """Record the referral's outcome dates; the status follows from them."""
    encounter, referral = _referral_for(request, encounter_ref)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.referral_outcome_record(
                referral=referral, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error, {})
        else:
            messages.success(request, "Referral outcome saved")
            return redirect(encounter)
    context = _detail_context(encounter, outcome_form=form)
    return render(request, "diversion/encounter_detail.html", context)


# --- Search and the person page ------------------------------------------------------------


@officer_required
def referrals_needing_action(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show the referrals needing action, filtered, by days overdue, a page at a time."""
    outcome_days = settings.REFERRAL_OUTCOME_DAYS
    choices = due_choices(outcome_days=outcome_days)
    form = ReferralQueueForm(
        request.GET or None,
        boroughs=boroughs_for_officer(user=request.user),
        due_choices=choices,
    )
    filters = form.filters()
    referrals = selectors.referrals_due(
        user=request.user, borough_id=filters["borough_id"], due=filters["due"]
    )
    page = selectors.referral_queue_page(
        referrals=referrals,
        most_overdue_first=filters["most_overdue_first"],
        after=filters["after"],
    )
    next_url = None
    if page.next_after is not None:
        next_url = _queue_url(request, after="{}.{}".format(*page.next_after))
    context = {
        "form": form,
        "page": page,
        "count": selectors.count_capped(referrals),
        "cap": selectors.COUNT_CAP,
        "due_labels": dict(choices),
        "next_url": next_url,
        "first_url": _queue_url(request, after=None) if filters["after"] else None,
    }
    return render(request, "diversion/referrals_needing_action.html", context)


def _queue_url(request: AuthenticatedHttpRequest, *, after: str | None) -> str:
    """Return this queue page's address with the same filters and another starting point."""
    params = request.GET.copy()
    params.pop("after", None)
    if after:
        params["after"] = after
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


def _audit_search(request: AuthenticatedHttpRequest, data: dict, *, results: int) -> None:
    """Record what was searched by and how much was shown, never the surname or date."""
    audit_record(
        by=request.user,
        action=Action.ENCOUNTER_SEARCH,
        request=request,
        detail=f"by {'reference' if data['encounter_ref'] else 'surname and date of birth'}"
        f"; results: {results}",
    )


@officer_required
def encounter_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Find encounters in the officer's boroughs by reference, or surname and date of birth."""
    results = None
    form = EncounterSearchForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and not _search_allowed(request, form):
        context = {"form": form, "results": None}
        return render(request, "diversion/encounter_search.html", context, status=429)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        # An exact encounter or person reference opens that record (issue 11).
        found = selectors.record_url_for_reference(
            user=request.user, reference=data["encounter_ref"]
        )
        if found:
            _audit_search(request, data, results=1)
            return redirect(found)
        results = list(
            selectors.encounter_search(
                user=request.user,
                encounter_ref=data["encounter_ref"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
            )[:100]
        )
        _audit_search(request, data, results=len(results))
    return render(request, "diversion/encounter_search.html", {"form": form, "results": results})


def _person_context(request: AuthenticatedHttpRequest, person: Person, form: ReoffenceForm) -> dict:
    offences = selectors.further_offences_for_officer(user=request.user, person=person)
    return {
        "person": person,
        "encounters_page": selectors.person_encounters_page(
            user=request.user, person=person, page=request.GET.get("page", 1)
        ),
        "reoffences": offences.shown,
        "offences_elsewhere": offences.elsewhere,
        "encounters_elsewhere": offences.encounters_elsewhere,
        "form": form,
    }


@officer_required
def person_detail(request: AuthenticatedHttpRequest, person_ref: str) -> HttpResponse:
    """Show a person's encounters in the officer's boroughs; other boroughs' only as counts."""
    person = selectors.person_for_officer(user=request.user, person_ref=person_ref)
    audit_record(
        by=request.user, action=Action.PERSON_VIEW, target=f"person:{person_ref}", request=request
    )
    context = _person_context(request, person, ReoffenceForm())
    return render(request, "diversion/person_detail.html", context)


@require_POST
@officer_required
def reoffence_new(request: AuthenticatedHttpRequest, person_ref: str) -> HttpResponse:
    """Record a further offence the officer knows of."""
    person = selectors.person_for_officer(user=request.user, person_ref=person_ref)
    form = ReoffenceForm(request.POST)
    if form.is_valid():
        try:
            services.reoffence_record(person=person, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, {})
        else:
            messages.success(request, "Further offence recorded")
            return redirect(reverse("diversion:person_detail", args=[person.person_ref]))
    context = _person_context(request, person, form)
    return render(request, "diversion/person_detail.html", context)
