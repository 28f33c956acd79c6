"""Print the shell variables bench_load.sh needs: a signed-in officer's cookies and pages.

Run under the same settings and DJANGO_SECRET_KEY as the server (a session made under another
key is refused). It signs the officer in the way the sign-in page does (a new session in the
session store) and picks, within the officer's boroughs, the person with the most encounters
and that person's latest encounter. It creates the officer only if there is none (seed_demo
makes ``officer``), so an existing database gains nothing but sessions: the officer's, one
part-way through logging an encounter for that person (for the choose and details pages),
and RECORD_SESSIONS more, their keys written one a line to RECORD_SESSIONS_FILE, for the
benchmark that records encounters (each records one, as recording ends the journey).
"""

from __future__ import annotations

import os
import shlex
import sys
from importlib import import_module
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret  # noqa: E402
from django.test import Client  # noqa: E402

from boroughs.models import OfficerAssignment  # noqa: E402
from diversion.models import Encounter  # noqa: E402
from diversion.selectors import referral_queue_page, referrals_due  # noqa: E402
from diversion.views import SESSION_KEY as JOURNEY_KEY  # noqa: E402


def _officer(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        sys.exit(f"There is no user {username!r}: run seed_demo first, or pass OFFICER=name.")
    return user


def _session(signed_in: dict, journey: dict) -> str:
    """Return the key of a new session: the officer signed in, part-way through logging."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session.update(signed_in)
    session[JOURNEY_KEY] = journey
    session.create()
    return session.session_key or ""


def main() -> None:
    user = _officer(os.environ.get("OFFICER", "officer"))
    boroughs = OfficerAssignment.objects.filter(officer=user).values("borough")
    busiest = (
        Encounter.objects.filter(borough__in=boroughs)
        .values("person")
        .annotate(n=Count("pk"))
        .order_by("-n", "person")
        .first()
    )
    if busiest is None:
        sys.exit(f"{user.username} has no encounters in their boroughs: pick another officer.")
    encounter = (
        Encounter.objects.filter(person=busiest["person"], borough__in=boroughs)
        .select_related("person")
        .order_by("-encounter_date", "-encounter_ref")
        .first()
    )
    client = Client()
    client.force_login(user)
    secret = _get_new_csrf_string()
    person = encounter.person
    # The queue's second page, as its "Next" link gives it, and one borough on its own.
    first = referral_queue_page(referrals=referrals_due(user=user))
    after = "{}.{}".format(*first.next_after) if first.next_after else ""
    session_id = client.cookies["sessionid"].value
    store = import_module(settings.SESSION_ENGINE).SessionStore
    signed_in = dict(store(session_key=session_id).load())
    # The steps of a new encounter keep the person being logged in the session: one session
    # part-way through (the choose and details pages), and one per encounter to record, as the
    # details page ends the journey it records.
    journey = {
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth.isoformat(),
        "person_ref": person.person_ref,
    }
    record_sessions = Path(os.environ.get("RECORD_SESSIONS_FILE", "/dev/null"))
    count = int(os.environ.get("RECORD_SESSIONS", "0"))
    with record_sessions.open("w") as out:
        for _ in range(count):
            out.write(_session(signed_in, journey) + "\n")
    values = {
        "SESSION_ID": session_id,
        "STEPS_SESSION_ID": _session(signed_in, journey),
        "RECORD_BOROUGH": encounter.borough_id,
        # What a browser holds after loading a form: the secret in the cookie, a masked token
        # of it in the page.
        "CSRF_COOKIE": secret,
        "CSRF_TOKEN": _mask_cipher_secret(secret),
        "ENCOUNTER_PATH": encounter.get_absolute_url(),
        "PERSON_PATH": f"/people/{person.person_ref}/",
        "SEARCH_LAST_NAME": person.last_name,
        "SEARCH_DOB": person.date_of_birth.isoformat(),
        "PERSON_ENCOUNTERS": busiest["n"],
        "ENCOUNTER_REF": encounter.encounter_ref,
        "QUEUE_AFTER": after,
        "QUEUE_BOROUGH": encounter.borough_id,
    }
    for name, value in values.items():
        print(f"{name}={shlex.quote(str(value))}")


if __name__ == "__main__":
    main()
