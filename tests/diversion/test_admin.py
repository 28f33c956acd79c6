"""The Django admin: policy versions, locked once used, and encounter corrections with a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from diversion import services
from diversion.models import EligibilityPolicy, Encounter, ExclusionFactor
from tests.conftest import enrol
from tests.diversion.factories import PersonFactory, pilot_borough


@pytest.fixture
def admin_client_(client, admin_user):
    """A client signed in as the admin role (staff, not superuser)."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def encounter(officer) -> Encounter:
    return services.encounter_record(
        by=officer,
        person=PersonFactory(),
        borough=pilot_borough(),
        encounter_date=timezone.localdate() - timedelta(days=3),
        substance="cannabis_herbal",
        quantity_grams=Decimal("2.5"),
        exclusions=["other_offence"],
        location="Catford Broadway",
    )


def _management(prefix: str, total: int, initial: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_admin_creates_a_new_policy_version_with_its_limits(admin_client_, admin_user):
    page = admin_client_.get(reverse("admin:diversion_eligibilitypolicy_add"))
    assert page.status_code == 200
    assert page.context["adminform"].form.initial["version"] == 2
    assert "UK practice" in page.content.decode()  # the leap-day help text

    response = admin_client_.post(
        reverse("admin:diversion_eligibilitypolicy_add"),
        {
            "version": "2",
            "effective_from": "2030-04-01",
            "min_age": "18",
            "max_age": "25",
            "prior_diversion_months": "6",
            "leap_day_rule": "march_1",
            "notes": "MOPAC's figures",
            **_management("limits", 2, 0),
            "limits-0-substance": "cannabis_herbal",
            "limits-0-max_grams": "20",
            "limits-1-substance": "cannabis_resin",
            "limits-1-max_grams": "4.5",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    policy = EligibilityPolicy.objects.get(version=2)
    assert policy.max_age == 25
    assert dict(policy.limits.values_list("substance", "max_grams")) == {
        "cannabis_herbal": Decimal("20"),
        "cannabis_resin": Decimal("4.5"),
    }
    assert policy.history.get().history_user == admin_user


def test_policy_with_minimum_age_above_maximum_is_refused(admin_client_):
    response = admin_client_.post(
        reverse("admin:diversion_eligibilitypolicy_add"),
        {
            "version": "2",
            "effective_from": "2030-04-01",
            "min_age": "26",
            "max_age": "25",
            "prior_diversion_months": "12",
            "leap_day_rule": "march_1",
            **_management("limits", 1, 0),
            "limits-0-substance": "cannabis_herbal",
            "limits-0-max_grams": "20",
        },
    )

    assert response.status_code == 200
    assert "The minimum age must not be above the maximum age." in response.content.decode()
    assert not EligibilityPolicy.objects.filter(version=2).exists()


def test_policy_that_has_judged_an_encounter_is_read_only_and_says_why(admin_client_, encounter):
    policy = encounter.policy
    url = reverse("admin:diversion_eligibilitypolicy_change", args=[policy.pk])

    page = admin_client_.get(url)
    html = page.content.decode()

    assert page.status_code == 200
    assert "has already judged encounters, so it cannot be changed or deleted" in html
    assert 'name="max_age"' not in html
    assert 'name="limits-0-max_grams"' not in html
    assert "Herbal cannabis" in html  # the limits are still shown, read-only

    attempt = admin_client_.post(
        url,
        {
            "version": "1",
            "effective_from": "2000-01-01",
            "min_age": "18",
            "max_age": "99",
            "prior_diversion_months": "12",
            "leap_day_rule": "march_1",
            **_management("limits", 0, 0),
        },
    )
    assert attempt.status_code == 403
    policy.refresh_from_db()
    assert policy.max_age == 24


def test_policy_that_has_judged_an_encounter_cannot_be_deleted(rf, admin_user, encounter):
    from django.contrib.admin.sites import site

    model_admin = site._registry[EligibilityPolicy]
    request = rf.get("/")
    request.user = admin_user

    assert model_admin.has_change_permission(request, encounter.policy) is False
    assert model_admin.has_delete_permission(request, encounter.policy) is False


def test_unused_policy_version_stays_editable(admin_client_):
    future = EligibilityPolicy.objects.create(
        version=2, effective_from=timezone.localdate() + timedelta(days=60)
    )

    page = admin_client_.get(reverse("admin:diversion_eligibilitypolicy_change", args=[future.pk]))

    assert 'name="max_age"' in page.content.decode()


def test_exclusion_factor_cannot_be_deleted_and_its_code_is_fixed(admin_client_):
    factor = ExclusionFactor.objects.get(code="other_offence")

    page = admin_client_.get(reverse("admin:diversion_exclusionfactor_change", args=[factor.pk]))
    delete = admin_client_.get(reverse("admin:diversion_exclusionfactor_delete", args=[factor.pk]))

    assert 'name="code"' not in page.content.decode()
    assert 'name="active"' in page.content.decode()
    assert delete.status_code == 403


def _correction(encounter: Encounter, **changes) -> dict[str, str]:
    data = {
        "occurred_at_0": "",
        "occurred_at_1": "",
        "location": encounter.location,
        "otherwise_disposal": encounter.otherwise_disposal,
        "change_reason": "",
        **_management("reasons", encounter.reasons.count(), encounter.reasons.count()),
        **_management("exclusion_links", 1, 1),
    }
    data.update(changes)
    return data


def test_encounter_correction_without_a_reason_is_refused(admin_client_, encounter):
    url = reverse("admin:diversion_encounter_change", args=[encounter.pk])

    response = admin_client_.post(url, _correction(encounter, location="Rushey Green"))

    assert response.status_code == 200
    assert "Enter the reason for this correction" in response.content.decode()
    encounter.refresh_from_db()
    assert encounter.location == "Catford Broadway"
    assert encounter.history.count() == 1


def test_encounter_correction_with_a_reason_is_saved_and_its_history_shows_why_and_who(
    admin_client_, admin_user, encounter
):
    url = reverse("admin:diversion_encounter_change", args=[encounter.pk])
    page = admin_client_.get(url)
    assert "Reason for this correction" in page.content.decode()
    assert "exclusion:other_offence" in page.content.decode()  # reasons shown read-only

    response = admin_client_.post(
        url,
        _correction(
            encounter, location="Rushey Green", change_reason="Location mistyped by officer"
        ),
    )

    assert response.status_code == 302
    encounter.refresh_from_db()
    assert encounter.location == "Rushey Green"
    assert encounter.decision == "ineligible"
    latest = encounter.history.latest("history_date")
    assert latest.history_change_reason == "Location mistyped by officer"
    assert latest.history_user == admin_user
    history = admin_client_.get(reverse("admin:diversion_encounter_history", args=[encounter.pk]))
    assert history.status_code == 200
    html = history.content.decode()
    assert "Location mistyped by officer" in html
    assert admin_user.username in html


def test_decision_facts_of_an_encounter_cannot_be_changed_in_the_admin(admin_client_, encounter):
    url = reverse("admin:diversion_encounter_change", args=[encounter.pk])
    versions = encounter.history.count()

    response = admin_client_.post(
        url, _correction(encounter, quantity_grams="99", decision="diverted", change_reason="Try")
    )

    # The form was accepted and saved (not refused and re-shown), yet the facts are unchanged.
    assert response.status_code == 302, response.context and response.context["errors"]
    assert encounter.history.count() == versions + 1
    assert encounter.history.latest("history_date").history_change_reason == "Try"
    encounter.refresh_from_db()
    assert encounter.quantity_grams == Decimal("2.5")
    assert encounter.decision == "ineligible"


def test_encounters_cannot_be_added_or_deleted_in_the_admin(admin_client_, encounter):
    add = admin_client_.get(reverse("admin:diversion_encounter_add"))
    delete = admin_client_.get(reverse("admin:diversion_encounter_delete", args=[encounter.pk]))

    assert add.status_code == 403
    assert delete.status_code == 403
    assert Encounter.objects.count() == 1


def test_admin_lists_and_searches_people_by_surname(admin_client_, encounter):
    other = PersonFactory(last_name="Okafor")
    changelist = reverse("admin:diversion_person_changelist")
    assert other.person_ref in admin_client_.get(changelist).content.decode()  # Listed...

    response = admin_client_.get(changelist, {"q": encounter.person.last_name})

    assert response.status_code == 200
    assert encounter.person.person_ref in response.content.decode()
    assert other.person_ref not in response.content.decode()  # ...but not found by the search.


def test_report_admin_is_read_only(client, db):
    from django.contrib.auth.models import User

    superuser = User.objects.create_superuser("root", password="x-x-x-x-x-x")
    enrol(superuser)  # Superusers, like admins, need a second factor.
    client.force_login(superuser)

    assert client.get(reverse("admin:reports_reportversion_changelist")).status_code == 200
    assert client.get(reverse("admin:reports_reportversion_add")).status_code == 403
    assert client.get(reverse("admin:reports_reportbuildjob_add")).status_code == 403
    assert client.get(reverse("admin:reports_reportdownload_add")).status_code == 403


def test_person_correction_in_the_admin_keeps_the_input_rules(admin_client_, encounter):
    """The admin's ModelForm runs the model fields' validators: no 1899 birth, no escapes."""
    person = encounter.person
    url = reverse("admin:diversion_person_change", args=[person.pk])
    response = admin_client_.post(
        url,
        {
            "first_name": "Sam\x1b[2J",
            "last_name": person.last_name,
            "date_of_birth": "1899-12-31",
            "gender": person.gender,
            "ethnicity": person.ethnicity,
            "pnc_id": "",
            "change_reason": "Typo",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The first name must not contain control or invisible characters" in html
    assert "The date of birth must be in 1900 or later" in html
    person.refresh_from_db()
    assert person.date_of_birth == encounter.person.date_of_birth
    assert person.history.count() == 1


def test_a_referral_correction_moves_it_in_the_work_queue(admin_client_, officer):
    """The admin keeps the queue's stored columns right, as the services do (issue 8)."""
    borough = pilot_borough()
    day = timezone.localdate() - timedelta(days=5)
    encounter = services.encounter_record(
        by=officer,
        person=PersonFactory(),
        borough=borough,
        encounter_date=day,
        substance="cannabis_herbal",
        quantity_grams=Decimal("2.5"),
        accepted=True,
    )
    referral = encounter.referral
    booked = timezone.localdate() - timedelta(days=1)
    url = reverse("admin:diversion_referral_change", args=[referral.pk])
    data = {
        "provider": "",
        "appointment_on": booked.isoformat(),
        "attended_on": "",
        "completed_on": "",
        "did_not_attend_on": "",
        "withdrawn_on": "",
        "change_reason": "Appointment date from the provider",
    }
    response = admin_client_.post(url, data)

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.borough_id, referral.due_on, referral.overdue_from) == (
        borough.pk,
        booked + timedelta(days=1),
        booked,
    )
