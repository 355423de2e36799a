"""monitor.services.reports: the one path from the database to a report."""

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.models import BusinessHours, StatusPoll, Store
from monitor.services.reports import ReportInputError, parse_as_of, report_generate

NOW = datetime(2023, 1, 25, 18, 0, tzinfo=UTC)


@pytest.fixture
def spec_examples_1_and_2(db: None) -> None:
    """Worked examples 1 and 2 of docs/report-semantics.md (§7), stored through the ORM."""
    plain = Store.objects.create(store_id="example-1")
    StatusPoll.objects.create(store=plain, timestamp_utc=NOW - timedelta(minutes=50), active=True)
    StatusPoll.objects.create(store=plain, timestamp_utc=NOW - timedelta(minutes=20), active=False)
    new_york = Store.objects.create(store_id="example-2", timezone_str="America/New_York")
    StatusPoll.objects.create(store=new_york, timestamp_utc=NOW - timedelta(hours=3), active=True)
    for day in range(7):
        BusinessHours.objects.create(
            store=new_york, day_of_week=day, start_time_local=time(9), end_time_local=time(17)
        )
    Store.objects.create(store_id="never-polled")


@pytest.mark.usefixtures("spec_examples_1_and_2")
def test_report_as_of_the_spec_examples_instant() -> None:
    report = report_generate(as_of=NOW)

    assert report.as_of == NOW
    assert report.csv().splitlines() == [
        "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
        "downtime_last_hour,downtime_last_day,downtime_last_week",
        "example-1,25.00,23.42,167.42,35.00,0.58,0.58",
        "example-2,60.00,8.00,56.00,0.00,0.00,0.00",
    ]


@pytest.mark.usefixtures("spec_examples_1_and_2")
def test_default_as_of_is_the_latest_poll() -> None:
    report = report_generate()
    assert report.as_of == NOW - timedelta(minutes=20)


@pytest.mark.usefixtures("spec_examples_1_and_2")
def test_as_of_in_another_offset_is_the_same_instant() -> None:
    five_hours_behind = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert report_generate(as_of=five_hours_behind).csv() == report_generate(as_of=NOW).csv()
    assert report_generate(as_of=five_hours_behind).as_of.tzinfo == UTC


@pytest.mark.usefixtures("spec_examples_1_and_2")
def test_progress_is_reported_in_order() -> None:
    seen: list[str] = []
    report_generate(as_of=NOW, on_progress=seen.append)
    assert seen == ["reading", "computing"]


@pytest.mark.django_db
def test_no_polls_stored_is_a_clear_error() -> None:
    with pytest.raises(ReportInputError, match="no polls are stored"):
        report_generate()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-25T18:00:00Z", NOW),
        ("2023-01-25T13:00:00-05:00", NOW),
        ("2023-01-25 18:00:00.000001+00:00", NOW + timedelta(microseconds=1)),
        ("2023-01-25T18:00:00", NOW),  # no offset: UTC
    ],
)
def test_parse_as_of(text: str, expected: datetime) -> None:
    assert parse_as_of(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2023-13-01T00:00:00Z", ""])
def test_parse_as_of_rejects_what_is_not_an_instant(text: str) -> None:
    with pytest.raises(ReportInputError, match="not an ISO 8601 instant"):
        parse_as_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",
        "0001-01-03T00:00:00Z",
        "1969-12-31T23:59:59.999999Z",
        "1970-01-01T00:59:59+01:00",
        "2199-12-31T00:00:00Z",
        "9999-12-31T23:00:00Z",
    ],
)
def test_parse_as_of_rejects_instants_where_no_poll_may_lie(text: str) -> None:
    """Amendment 5's range of polls: from 1970 to a day after now."""
    with pytest.raises(
        ReportInputError,
        match=r"out of range: the as-of instant must lie between 1970-01-01T00:00:00Z and "
        r"24 hours from now \(\d{4}-",
    ):
        parse_as_of(text)


def test_parse_as_of_takes_both_ends_of_the_range() -> None:
    assert parse_as_of("1970-01-01T00:00:00Z") == datetime(1970, 1, 1, tzinfo=UTC)
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=23, minutes=59)
    assert parse_as_of(f"{ahead:%Y-%m-%dT%H:%M:%S}Z") == ahead
    with pytest.raises(ReportInputError, match="out of range"):
        parse_as_of(f"{ahead + timedelta(minutes=2):%Y-%m-%dT%H:%M:%S}Z")


@pytest.mark.usefixtures("spec_examples_1_and_2")
def test_a_report_at_either_end_of_the_range() -> None:
    earliest = report_generate(as_of=datetime(1970, 1, 1, tzinfo=UTC))
    latest = report_generate(as_of=datetime.now(UTC) + timedelta(hours=23))

    assert earliest.csv().count("\n") == 1  # no store was polled by then
    assert latest.csv().count("\n") == 3


@pytest.mark.usefixtures("spec_examples_1_and_2")
def test_report_generate_rejects_an_out_of_range_instant() -> None:
    with pytest.raises(ReportInputError, match="out of range"):
        report_generate(as_of=datetime(1, 1, 2, tzinfo=UTC))


@pytest.mark.usefixtures("spec_examples_1_and_2")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.datetimes(timezones=st.just(UTC)),
        st.datetimes(datetime(1969, 12, 31), datetime(1970, 1, 2), timezones=st.just(UTC)),
        st.builds(
            lambda hours: datetime.now(UTC) + timedelta(hours=hours),
            st.floats(23.9, 24.1),
        ),
    )
)
def test_every_as_of_is_refused_or_reported_without_overflow(as_of: datetime) -> None:
    """Both ends of the range, with hypothesis: inside it a report, outside it the reason."""
    earliest, latest = datetime(1970, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)
    if earliest <= as_of <= latest - timedelta(seconds=1):
        assert report_generate(as_of=as_of).as_of == as_of
    elif not earliest <= as_of <= latest + timedelta(seconds=1):  # not just at the moving end
        with pytest.raises(ReportInputError, match="out of range"):
            report_generate(as_of=as_of)
