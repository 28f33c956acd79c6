"""A short session as an officer, and what the audit trail holds afterwards.

Run with ``-s`` to print the rows. They name the officer, the action, the record's reference
and the address, and never a name, date of birth or PNC ID.
"""

import pytest

from audit.models import AuditEvent
from tests.conftest import PASSWORD
from tests.diversion.factories import EncounterFactory, PersonFactory, pilot_borough
from tests.diversion.test_views import dmy

pytestmark = pytest.mark.django_db


def test_an_officers_session_leaves_a_trail_without_personal_data(client, officer, lewisham):
    borough = pilot_borough(lewisham.gss_code)
    person = PersonFactory(first_name="Ria", last_name="Khan", pnc_id="12/34Z")
    encounter = EncounterFactory(borough=borough, person=person, officer=officer)
    at = {"REMOTE_ADDR": "10.20.30.40"}

    client.post("/sign-in/", {"username": "officer", "password": "wrong"}, **at)
    client.post("/sign-in/", {"username": "officer", "password": PASSWORD}, **at)
    client.get("/", **at)
    born = dmy("date_of_birth", person.date_of_birth)
    client.post("/encounters/new/", {"last_name": "Khan", **born}, **at)
    client.get("/encounters/new/choose/", **at)
    client.get(encounter.get_absolute_url(), **at)
    client.get(f"/people/{person.person_ref}/", **at)
    client.post("/encounters/search/", {"search-encounter_ref": encounter.encounter_ref}, **at)
    client.post("/sign-out/", **at)

    rows = list(
        AuditEvent.objects.order_by("id").values_list(
            "at", "actor", "action", "target", "detail", "address"
        )
    )
    print()
    for at_, actor, action, target, detail, address in rows:
        print(f"{at_:%H:%M:%S} {actor:8} {action:17} {target:24} {detail:42} {address}")
    assert [r[2] for r in rows] == [
        "sign-in-failed",
        "sign-in",
        "person.match",
        "encounter.view",
        "person.view",
        "encounter.search",
        "sign-out",
    ]
    assert {r[1] for r in rows} == {"officer"} and {r[5] for r in rows} == {"10.20.30.40"}
    text = str(rows)
    for personal in ("Ria", "Khan", "12/34Z", person.date_of_birth.isoformat()):
        assert personal not in text
