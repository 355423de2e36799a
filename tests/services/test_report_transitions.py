"""docs/architecture.md's state tables, driven: each transition it lists is set
up in its *from* state, its *who* runs, and its *to* state must follow."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from monitor.models import DataChange, Report, ReportPart, StatusPoll
from monitor.scope import PLATFORM
from monitor.selectors import ALL_STORES
from monitor.services import (
    report_attempts,
    report_parts,
    report_staleness,
    report_trigger,
    report_turns,
)
from monitor.services.report_attempts import PartAttempt, ReportAttempt, attempt_outcome
from tests.report_data import SPEC_NOW, store_spec_examples
from tests.support.jobqueue import FakeQueue


def platform_trigger(**options: Any) -> report_trigger.Triggered:
    """A report of every store (the platform's), as report_trigger makes it."""
    return report_trigger.report_trigger(scope=PLATFORM, **options)


pytestmark = pytest.mark.django_db

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


class Row(NamedTuple):
    id: str
    before: tuple[str, ...] | None  # None: no row
    after: tuple[str, ...] | None
    who: str


def table(heading: str) -> list[Row]:
    """The rows of the table under `heading` in docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8").split(f"### {heading}\n", 1)[1]
    rows = []
    for line in text.split("\n## ", 1)[0].split("\n### ", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"[TP]\d+", cells[0]):
            rows.append(Row(cells[0], state(cells[1]), state(cells[2]), cells[3].strip("`")))
    return rows


def state(cell: str) -> tuple[str, ...] | None:
    return None if cell == "—" else tuple(cell.split(" · "))


REPORT_ROWS = table("Report transitions")
PART_ROWS = table("ReportPart transitions")


def report_state(report_id: str) -> tuple[str, ...] | None:
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return None
    return (report.status, report.stage, str(report.attempts), str(report.rounds))


def part_state(part_id: int) -> tuple[str, ...] | None:
    part = ReportPart.objects.filter(pk=part_id).first()
    return None if part is None else (part.status, str(part.attempts))


def a_report(before: tuple[str, ...], **fields: object) -> Report:
    status, stage, attempts, rounds = before
    return Report.objects.create(
        status=status,
        stage=stage,
        attempts=int(attempts),
        rounds=int(rounds),
        requested_as_of=SPEC_NOW,
        as_of=SPEC_NOW,
        data_version=0,
        **fields,
    )


def with_parts(report: Report, *versions: int | None, attempts: int = 1) -> list[int]:
    """Parts of `report`, Complete at each version given, Running where None."""
    parts = ReportPart.objects.bulk_create(
        ReportPart(
            report=report,
            index=index,
            status=Report.Status.RUNNING if version is None else Report.Status.COMPLETE,
            attempts=attempts,
            data_version=version,
            row_count=None if version is None else 1,
            stores_without_recent_poll=None if version is None else 0,
        )
        for index, version in enumerate(versions)
    )
    Report.objects.filter(pk=report.pk).update(part_count=len(parts))
    return [part.pk for part in parts]


def part_attempt(report: Report, part_id: int) -> PartAttempt:
    return PartAttempt(part_id, report.report_id, 1, report.part_count, SPEC_NOW, ALL_STORES)


# Each driver: the transition's *who*, run from the row's *from* state; the resulting state.
Driver = Callable[[Row, FakeQueue], tuple[str, ...] | None]


def t1(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    return report_state(platform_trigger(as_of=SPEC_NOW).report.report_id)


def t2(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    queue.may_refuse = False  # as the embedded queue
    return t1(row, queue)


def t3(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    report_turns.report_dispatch(report)
    return report_state(report.report_id)


def t4(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    queue.refusing = True
    with pytest.raises(report_turns.JobQueueUnavailableError):
        report_turns.report_dispatch(report)
    return report_state(report.report_id)


def t19(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    platform_trigger(as_of=SPEC_NOW)
    return report_state(platform_trigger(as_of=SPEC_NOW, force=True).report.report_id)


def release(*, may_refuse: bool) -> Driver:
    def drive(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
        assert row.before is not None
        queue.may_refuse = may_refuse
        report = a_report(row.before)
        report_turns.reports_release(report_turns.Client(None, None))
        return report_state(report.report_id)

    return drive


def claim(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    report_attempts.report_attempt_start(report.report_id)
    return report_state(report.report_id)


def t7(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    ReportAttempt(report.report_id, 1, SPEC_NOW).plan_parts()
    return report_state(report.report_id)


def t8(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    StatusPoll.objects.all().delete()
    attempt = ReportAttempt(report.report_id, 1, None)  # as of the latest poll: there is none
    attempt_outcome("planning", attempt.fail, attempt.plan_parts)
    return report_state(report.report_id)


def t10(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    parts = with_parts(report, None, attempts=0)
    queue.refusing = True
    report_parts.parts_dispatch(report.report_id, parts)
    return report_state(report.report_id)


def t11(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    (part,) = with_parts(report, None, attempts=0)
    report_attempts.part_attempt_start(part)
    return report_state(report.report_id)


def t12(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    (part,) = with_parts(report, None)
    part_attempt(Report.objects.get(pk=report.pk), part).progress(Report.Stage.READING)
    return report_state(report.report_id)


def t13(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(row.before)
    (part,) = with_parts(report, None)
    part_attempt(Report.objects.get(pk=report.pk), part).fail("a part failed")
    return report_state(report.report_id)


def finish(*versions: int) -> Driver:
    def drive(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
        assert row.before is not None
        DataChange.objects.create(version=1, any_report=True)  # reaches every report
        report = a_report(row.before)
        with_parts(report, *versions)
        report_parts.report_finish_if_last(report.report_id)
        return report_state(report.report_id)

    return drive


def stale(silent_for: timedelta) -> Driver:
    def drive(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
        assert row.before is not None
        report = a_report(row.before)
        Report.objects.filter(pk=report.pk).update(heartbeat_at=timezone.now() - silent_for)
        report_staleness.reports_fail_stale()
        return report_state(report.report_id)

    return drive


def p_plan(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    report = a_report(("Running", "started", "1", "0"))
    before = with_parts(report, 0) if row.before is not None else []
    (part,) = ReportAttempt(report.report_id, 1, SPEC_NOW).plan(SPEC_NOW, [ALL_STORES])
    return part_state(before[0]) if before else part_state(part)


def p_claim(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    assert row.before is not None
    report = a_report(("Running", "queued parts", "1", "0"))
    (part,) = with_parts(report, None, attempts=int(row.before[1]))
    report_attempts.part_attempt_start(part)
    return part_state(part)


def p_complete(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    report = a_report(("Running", "writing", "1", "0"))
    (part,) = with_parts(report, None)
    rows = {"data_version": 0, "row_count": 1, "stores_without_recent_poll": 0}
    part_attempt(Report.objects.get(pk=report.pk), part).complete(**rows, absolute="", percent="")
    return part_state(part)


def p_fail(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    report = a_report(("Running", "computing", "1", "0"))
    (part,) = with_parts(report, None)
    part_attempt(Report.objects.get(pk=report.pk), part).fail("failed")
    return part_state(part)


def p_round(row: Row, queue: FakeQueue) -> tuple[str, ...] | None:
    DataChange.objects.create(version=1, any_report=True)
    report = a_report(("Running", "writing", "1", "0"))
    behind, _ = with_parts(report, 0, 1)
    report_parts.report_finish_if_last(report.report_id)
    return part_state(behind)


DRIVERS: dict[str, Driver] = {
    "T1": t1,
    "T2": t2,
    "T3": t3,
    "T4": t4,
    "T5": claim,
    "T6": claim,
    "T7": t7,
    "T8": t8,
    "T9": claim,
    "T10": t10,
    "T11": t11,
    "T12": t12,
    "T13": t13,
    "T14": finish(1, 1),
    "T15": finish(0, 1),
    "T16": finish(0, 1),
    "T17": stale(timedelta(seconds=601)),
    "T18": stale(timedelta(seconds=3601)),
    "T19": t19,
    "T20": release(may_refuse=True),
    "T21": release(may_refuse=False),
    "T22": stale(timedelta(seconds=3601)),
    "P1": p_plan,
    "P2": p_claim,
    "P3": p_complete,
    "P4": p_fail,
    "P5": p_claim,
    "P6": p_round,
    "P7": p_plan,
}
# The function each driver runs, as the table names it.
WHO = {
    "report_trigger": {"T1", "T2", "T19"},
    "reports_release": {"T20", "T21"},
    "report_dispatch": {"T3", "T4"},
    "report_attempt_start": {"T5", "T6", "T9"},
    "ReportAttempt.plan_parts": {"T7"},
    "attempt_outcome": {"T8"},
    "parts_dispatch": {"T10"},
    "part_attempt_start": {"T11", "P2", "P5"},
    "PartAttempt.progress": {"T12"},
    "PartAttempt.fail": {"T13", "P4"},
    "report_finish_if_last": {"T14", "T15", "T16", "P6"},
    "reports_fail_stale": {"T17", "T18", "T22"},
    "ReportAttempt.plan": {"P1", "P7"},
    "PartAttempt.complete": {"P3"},
}


def test_every_transition_the_page_lists_is_driven_here() -> None:
    listed = {row.id: row.who for row in REPORT_ROWS + PART_ROWS}
    assert set(listed) == set(DRIVERS)
    assert {row_id: who for who, ids in WHO.items() for row_id in ids} == listed


@pytest.mark.parametrize("row", REPORT_ROWS + PART_ROWS, ids=lambda row: row.id)
def test_the_transition_happens_as_the_page_says(
    row: Row, job_queue: FakeQueue, settings: Settings
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 600
    settings.REPORT_QUEUE_TIMEOUT = 3600
    store_spec_examples()

    assert DRIVERS[row.id](row, job_queue) == row.after
