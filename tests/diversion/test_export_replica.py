"""The encounters export reads from the read replica when one is configured.

The test settings make "replica" a mirror of default through a second connection; these tests
commit, so that connection sees their rows (``transaction=True``).
"""

import io

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from diversion.exports import encounters_count, encounters_export
from tests.diversion.factories import EncounterFactory, pilot_borough

ON_BOTH = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY ... TO STDOUT is the PostgreSQL path"
)
@ON_BOTH
def test_the_export_copy_runs_on_the_replica_connection(reference_data):
    """COPY bypasses the router, so the export takes its cursor from the replica itself."""

    borough = pilot_borough()
    for number in range(3):
        EncounterFactory(borough=borough, encounter_ref=f"ENC-{number}")
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (replica_pid,) = cursor.fetchone()
    out = io.BytesIO()

    rows = encounters_export(stream=out)

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (default_pid,) = cursor.fetchone()
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'COPY (%%'"
        )
        copies = cursor.fetchall()
    assert rows == 3 and out.getvalue().count(b"\r\n") == 4
    assert replica_pid != default_pid
    assert [pid for pid, _query in copies] == [replica_pid]


@ON_BOTH
def test_the_portable_export_and_its_count_read_the_replica(reference_data):
    borough = pilot_borough()
    for number in range(3):
        EncounterFactory(borough=borough, encounter_ref=f"ENC-{number}")
    default = CaptureQueriesContext(connections["default"])
    replica = CaptureQueriesContext(connections["replica"])
    out = io.BytesIO()

    with default, replica:
        assert encounters_count() == 3
        assert encounters_export(stream=out, portable=True) == 3

    tables = " ".join(q["sql"] for q in replica)
    assert '"diversion_encounter"' in tables and '"diversion_encounterreason"' in tables
    assert list(default) == []
