"""The boroughs shipped by the data migration."""

import pytest

from boroughs.models import Borough

pytestmark = pytest.mark.django_db


def test_thirty_three_london_authorities_ship_with_their_gss_codes():
    codes = list(Borough.objects.order_by("gss_code").values_list("gss_code", flat=True))
    assert codes == [f"E09{n:06d}" for n in range(1, 34)]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("E09000001", "City of London"),
        ("E09000002", "Barking and Dagenham"),
        ("E09000012", "Hackney"),
        ("E09000022", "Lambeth"),
        ("E09000023", "Lewisham"),
        ("E09000028", "Southwark"),
        ("E09000030", "Tower Hamlets"),
        ("E09000033", "Westminster"),
    ],
)
def test_borough_has_its_real_name(code, name):
    assert Borough.objects.get(gss_code=code).name == name


def test_every_borough_starts_outside_the_pilot():
    assert set(Borough.objects.values_list("role", flat=True)) == {"none"}
    assert not Borough.objects.filter(pilot_start__isnull=False).exists()
