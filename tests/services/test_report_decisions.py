"""The report jobs' decisions as pure functions, tested without a database:
finishing a report in parts (report_parts.finishing_decision) and choosing the
report a trigger reuses (report_trigger.reuse_choice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitor.services.data_version import Change, changes_reach
from monitor.services.report_parts import (
    DATA_KEPT_CHANGING,
    MAX_ROUNDS,
    CompleteReport,
    FailReport,
    PartIn,
    RunAgain,
    finishing_decision,
)
from monitor.services.report_trigger import QUEUED_REUSE_SECONDS, Candidate, reuse_choice

AS_OF = datetime(2023, 1, 25, 18, tzinfo=UTC)

# ---- finishing -------------------------------------------------------------------------------

changes = st.one_of(
    st.just(Change(any_report=True)),
    st.just(Change()),  # touched nothing a report reads
    st.builds(
        lambda minutes: Change(polls_from=AS_OF + timedelta(minutes=minutes)),
        st.integers(-600, 600),
    ),
)


@st.composite
def parts_and_log(draw: st.DrawFn) -> tuple[list[PartIn], dict[int, Change]]:
    """Parts all in, each at a data version in 0..8, and a log of changes up
    to the highest, some entries missing (pruned: they count as reaching)."""
    versions = draw(st.lists(st.integers(0, 8), min_size=1, max_size=6))
    parts = [
        PartIn(
            pk=index + 1,
            data_version=version,
            row_count=draw(st.integers(0, 10_000)),
            stores_without_recent_poll=draw(st.integers(0, 100)),
        )
        for index, version in enumerate(versions)
    ]
    logged = draw(st.dictionaries(st.integers(1, max(1, *versions)), changes))
    return parts, logged


@given(parts_and_log(), st.integers(0, MAX_ROUNDS + 1))
def test_finishing_completes_a_consistent_report_runs_the_behind_parts_again_or_fails(
    drawn: tuple[list[PartIn], dict[int, Change]], rounds: int
) -> None:
    parts, logged = drawn
    oldest = min(part.data_version for part in parts)
    newest = max(part.data_version for part in parts)

    decision = finishing_decision(as_of=AS_OF, rounds=rounds, parts=parts, logged=logged)

    consistent = not changes_reach(AS_OF, oldest, newest, logged)
    if consistent:
        # The figures are the parts' sums, at the newest version read.
        assert decision == CompleteReport(
            data_version=newest,
            row_count=sum(part.row_count for part in parts),
            stores_without_recent_poll=sum(part.stores_without_recent_poll for part in parts),
        )
    elif rounds >= MAX_ROUNDS:
        assert decision == FailReport(DATA_KEPT_CHANGING)
    else:
        assert isinstance(decision, RunAgain)
        behind = set(decision.part_ids)
        # Exactly the parts a later change reaches: never none, never one at the newest version.
        assert behind == {
            part.pk for part in parts if changes_reach(AS_OF, part.data_version, newest, logged)
        }
        assert behind
        assert not behind & {part.pk for part in parts if part.data_version == newest}


@given(parts_and_log())
def test_parts_that_all_read_one_version_complete_whatever_the_log(
    drawn: tuple[list[PartIn], dict[int, Change]],
) -> None:
    parts, logged = drawn
    same = [PartIn(p.pk, 3, p.row_count, p.stores_without_recent_poll) for p in parts]

    decision = finishing_decision(as_of=AS_OF, rounds=MAX_ROUNDS, parts=same, logged=logged)

    assert isinstance(decision, CompleteReport)
    assert decision.data_version == 3


def test_polls_after_the_as_of_instant_never_run_a_part_again() -> None:
    parts = [PartIn(1, 1, 5, 0), PartIn(2, 2, 7, 1)]
    later = {2: Change(polls_from=AS_OF + timedelta(microseconds=1))}

    decision = finishing_decision(as_of=AS_OF, rounds=0, parts=parts, logged=later)

    assert decision == CompleteReport(data_version=2, row_count=12, stores_without_recent_poll=1)


# ---- reuse -----------------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    """Candidates of one instant and version, newest first, with unique ids."""
    count = draw(st.integers(0, 6))
    ages = sorted(draw(st.lists(st.integers(0, 600), min_size=count, max_size=count)))
    return [
        Candidate(
            report_id=f"r{index}",
            complete=draw(st.booleans()),
            created_at=NOW - timedelta(seconds=age),
            lost=draw(st.booleans()),
            kept_a_while=draw(st.booleans()),
            started=draw(st.booleans()),
            held=draw(st.booleans()),
            enqueuing=draw(st.booleans()),
        )
        for index, age in enumerate(ages)
    ]


def will_finish(candidate: Candidate) -> bool:
    if candidate.lost:
        return False
    if candidate.complete:
        return candidate.kept_a_while
    recent = candidate.created_at >= NOW - timedelta(seconds=QUEUED_REUSE_SECONDS)
    return candidate.started or candidate.held or recent


@given(candidates())
def test_reuse_takes_the_newest_of_the_best_report_whose_job_will_finish(
    drawn: list[Candidate],
) -> None:
    chosen = reuse_choice(drawn, now=NOW)

    alive = [candidate for candidate in drawn if will_finish(candidate)]
    if not alive:
        assert chosen is None
        return
    best = min((not c.complete, c.enqueuing) for c in alive)
    first_best = next(c for c in alive if (not c.complete, c.enqueuing) == best)
    assert chosen == first_best.report_id


@given(candidates())
def test_a_lost_report_or_one_retention_is_about_to_delete_is_never_reused(
    drawn: list[Candidate],
) -> None:
    chosen = next((c for c in drawn if c.report_id == reuse_choice(drawn, now=NOW)), None)

    assert chosen is None or not chosen.lost
    assert chosen is None or not chosen.complete or chosen.kept_a_while


def test_a_complete_report_is_preferred_to_a_newer_running_one() -> None:
    running = Candidate("new", False, NOW, False, False, True, False, False)
    complete = Candidate("old", True, NOW - timedelta(hours=1), False, True, True, False, False)

    assert reuse_choice([running, complete], now=NOW) == "old"
