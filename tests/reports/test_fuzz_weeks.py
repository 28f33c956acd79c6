"""Random text thrown at the week parser and the build form: a real ISO week or a plain message."""

import re
from datetime import timedelta

from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.forms import BuildReportForm
from reports.weeks import WeekError, parse_week, week_of

FUZZ = settings(max_examples=100, deadline=None)
ASCII_WEEK = re.compile(r"[0-9]{4}-W[0-9]{2}")

weeks = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A[0-9٠-٩０-９]{1,5}-[Ww][0-9٠-٩０-９]{1,3}\Z"),
    st.builds(
        lambda y, w: f"{y:04d}-W{w:02d}",
        st.integers(min_value=-10, max_value=10_000),
        st.integers(min_value=-1, max_value=60),
    ),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Nd"]), max_size=10),
)


@settings(FUZZ)
@given(week=weeks)
def test_parse_week_gives_the_week_typed_or_a_week_error(week):
    try:
        monday, sunday = parse_week(week)
    except WeekError as error:
        assert str(error)  # a message fit to show
        return
    assert ASCII_WEEK.fullmatch(week.strip())
    assert week_of(monday) == week.strip() and sunday - monday == timedelta(days=6)


@settings(FUZZ)
@given(week=weeks)
def test_build_form_accepts_only_an_ended_ascii_week(week):
    form = BuildReportForm(data={"week": week})
    if not form.is_valid():
        assert form.errors["week"][0]
        return
    cleaned = form.cleaned_data["week"]
    assert ASCII_WEEK.fullmatch(cleaned)
    assert parse_week(cleaned)[1] < timezone.localdate()


def test_the_reported_non_ascii_week_is_refused():
    form = BuildReportForm(data={"week": "１２３４-W01"})
    assert not form.is_valid()
