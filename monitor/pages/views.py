"""The pages: plain function views over the services, server-rendered.

htmx (served by django-htmx from its wheel) swaps parts of a page: the fleet's
store table when searching, sorting or paging, and the progress of a running
report. Every such request also works as a plain link or form without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from monitor.formatting import (
    duration_text,
    hours_text,
    incident_duration_text,
    seconds_text,
    ticks_of,
)
from monitor.models import Incident, Organization, Report
from monitor.pages import charts
from monitor.pages.access import page_access
from monitor.pages.week import day_rows, first_business_hour
from monitor.scope import Scope
from monitor.selectors import report_csv_chunks, report_latest_complete
from monitor.services import fleet as fleet_service
from monitor.services import incident_reads, notifications
from monitor.services.report_staleness import (
    report_get_failing_lost,
    reports_recent_failing_lost,
)
from monitor.services.report_trigger import (
    JobQueueUnavailableError,
    QueueFullError,
    report_trigger,
)
from monitor.services.reports import ReportInputError, parse_as_of
from monitor.services.stores import (
    MAX_OFFSET,
    ExcludedPeriod,
    Figures,
    HoursRow,
    SpecialDate,
    StoreNotFoundError,
    StoreStory,
    store_story,
)
from monitor.services.workers import queue_warning

STORES_PER_PAGE = 50
INCIDENTS_PER_PAGE = 50
REPORTS_LISTED = 50
# The direction each column sorts in first: worst stores first.
_WORST_FIRST_DESCENDING = {
    column: column.startswith("downtime") for column in fleet_service.SORT_COLUMNS
}
_COLUMN_TITLES = {
    "store_id": "Store",
    "uptime_last_week_pct": "Week up %",
    "uptime_last_hour": "Up, hour (min)",
    "uptime_last_day": "Up, day (h)",
    "uptime_last_week": "Up, week (h)",
    "downtime_last_hour": "Down, hour (min)",
    "downtime_last_day": "Down, day (h)",
    "downtime_last_week": "Down, week (h)",
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEK = timedelta(days=7)
_HOUR_COLUMNS = ("uptime_last_hour", "downtime_last_hour")
_CLOSED_THIS_HOUR = "closed this hour"
_HISTOGRAM_LABELS = [f"{10 * i}–{10 * (i + 1)}" for i in range(fleet_service.HISTOGRAM_BINS)]


class HtmxHttpRequest(HttpRequest):
    """A request as HtmxMiddleware leaves it (django-htmx's documented typing)."""

    htmx: HtmxDetails


class FleetQuery(forms.Form):
    report = forms.CharField(required=False, max_length=64)
    organization = forms.SlugField(required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)
    sort = forms.ChoiceField(required=False, choices=[(c, c) for c in fleet_service.SORT_COLUMNS])
    order = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])
    page = forms.IntegerField(required=False, min_value=1)


class OrganizationQuery(forms.Form):
    organization = forms.SlugField(required=False)


class IncidentsQuery(forms.Form):
    organization = forms.SlugField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "any"), *((s, s) for s in incident_reads.STATUSES)]
    )
    # Exact: store ids are stored trimmed (§1), so " 7" names no store.
    store_id = forms.CharField(required=False, strip=False)
    page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_OFFSET // INCIDENTS_PER_PAGE
    )


@require_GET
@page_access
def fleet(request: HtmxHttpRequest, *, scope: Scope) -> HttpResponse:
    """The fleet of one report: the latest Complete one of the viewer's (staff:
    of every store, or ?organization='s) unless ?report= names another."""
    query = FleetQuery(request.GET)
    if not query.is_valid():
        return _bad_request(request, query)
    params = query.cleaned_data
    shown = _narrowed(request, scope, params["organization"])
    if isinstance(shown, HttpResponse):
        return shown
    if params["report"]:
        report = report_get_failing_lost(params["report"], scope=shown)
        if report is None:
            return _error(request, [f"no report with id {params['report']!r}"], status=404)
    else:
        report = report_latest_complete(shown.own_reports())
    job = _job_to_show(report, shown)
    context: dict[str, object] = {
        "report": report,
        "job": job,
        "queue_warning": None if job is None else queue_warning(job),
        "open_incidents": incident_reads.open_incident_count(scope=shown),
        "open_incidents_url": _incidents_url(status="open", organization=params["organization"]),
        **_failing_channels_context(shown),
        # A report named by id is shown as its organization's, whatever the filter.
        **_organization_context(
            scope, Scope(report.organization) if report and params["report"] else shown
        ),
    }
    if report is not None and report.status == Report.Status.COMPLETE:
        try:
            fleet = fleet_service.fleet_of(report)
        except fleet_service.FleetError as error:  # deleted by retention meanwhile, say
            return _error(request, [str(error)], status=404)
        context.update(_fleet_context(fleet))
        context.update(_table_context(fleet, params))
        if request.htmx and request.htmx.target == "stores":
            return render(request, "monitor/_stores.html", context)
    return render(request, "monitor/fleet.html", context)


def _job_to_show(shown: Report | None, scope: Scope) -> Report | None:
    """The report whose state the page's panel shows: the one asked for while it
    is not Complete, else the scope's own newest report when it is Running or
    Failed and newer than the one shown (so a page keeps showing the latest
    good fleet)."""
    if shown is not None and shown.status != Report.Status.COMPLETE:
        return shown
    newest = next(iter(reports_recent_failing_lost(scope=scope, limit=1, own=True)), None)
    if newest is None or newest.status == Report.Status.COMPLETE:
        return None
    if shown is not None and newest.created_at <= shown.created_at:
        return None
    return newest


@require_POST
@page_access
def report_new(request: HtmxHttpRequest, *, scope: Scope) -> HttpResponse:
    """Ask for a report as of the latest poll through the API's own service: of
    the viewer's stores (staff: of every store, or of the organization the page
    was filtered by).

    As through the API, a report of the same instant and data is reused: the
    page then goes straight to it. htmx gets the new report's progress panel.
    """
    query = OrganizationQuery(request.POST)
    if not query.is_valid():
        return _bad_request(request, query)
    shown = _narrowed(request, scope, query.cleaned_data["organization"])
    if isinstance(shown, HttpResponse):
        return shown
    try:
        triggered = report_trigger(scope=shown)
    except (QueueFullError, JobQueueUnavailableError) as error:
        failed = {"job": None, "trigger_error": str(error)}
        template = "monitor/_job.html" if request.htmx else "monitor/error.html"
        status = 429 if isinstance(error, QueueFullError) else 503
        return render(request, template, failed, status=status)
    report = triggered.report
    if report.status == Report.Status.COMPLETE:
        return _to_fleet(request, report.report_id)
    if request.htmx:
        panel = {"job": report, "organization": shown.organization}
        return render(request, "monitor/_job.html", panel)
    return redirect(_fleet_url(report.report_id))


@require_GET
@page_access
def report_progress(request: HtmxHttpRequest, report_id: str, *, scope: Scope) -> HttpResponse:
    """A report's progress panel; once Complete, htmx is sent to its fleet."""
    report = report_get_failing_lost(report_id, scope=scope)
    if report is None:
        return _error(request, [f"no report with id {report_id!r}"], status=404)
    if report.status == Report.Status.COMPLETE and request.htmx:
        return _to_fleet(request, report.report_id)
    return render(
        request, "monitor/_job.html", {"job": report, "queue_warning": queue_warning(report)}
    )


@require_GET
@page_access
def reports(request: HtmxHttpRequest, *, scope: Scope) -> HttpResponse:
    """The viewer's recent reports (staff: everyone's, or ?organization='s)."""
    query = OrganizationQuery(request.GET)
    if not query.is_valid():
        return _bad_request(request, query)
    shown = _narrowed(request, scope, query.cleaned_data["organization"])
    if isinstance(shown, HttpResponse):
        return shown
    recent = reports_recent_failing_lost(scope=shown, limit=REPORTS_LISTED)
    context = {
        "reports": [(report, _duration(report)) for report in recent],
        "running": any(r.status == Report.Status.RUNNING for r in recent),
        **_organization_context(scope, shown),
    }
    if request.htmx and request.htmx.target == "report-list":
        return render(request, "monitor/_report_rows.html", context)
    return render(request, "monitor/reports.html", context)


@dataclass(frozen=True)
class IncidentRow:
    """An incident as the pages print it: its times, and its duration (so far, if open)."""

    times: incident_reads.IncidentTimes
    duration: str

    @property
    def incident(self) -> Incident:
        return self.times.incident


def _incident_rows(incidents: tuple[Incident, ...]) -> list[IncidentRow]:
    now = datetime.now(UTC)
    rows = []
    for incident in incidents:
        times = incident_reads.incident_times(incident)
        if times.ticks is None:  # open: its length up to now
            so_far = incident_duration_text(max(0, ticks_of(now - times.start)))
            rows.append(IncidentRow(times, f"{so_far} so far"))
        else:
            rows.append(IncidentRow(times, incident_duration_text(times.ticks)))
    return rows


def _failing_channels_context(scope: Scope) -> dict[str, object]:
    """The scope's notification channels marked failing: its incidents are not told there."""
    return {
        "failing_channels": list(notifications.channels_failing(scope).order_by("failing_since")),
        "failing_hours": settings.NOTIFY_RETRY_HOURS,
    }


def _incidents_url(**query: object) -> str:
    """/incidents/ with the query's non-empty values."""
    given = {name: value for name, value in query.items() if value not in ("", None)}
    return reverse("pages:incidents") + (f"?{urlencode(given)}" if given else "")


@require_GET
@page_access
def incidents(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    """The viewer's incidents (staff: every store's, or ?organization='s), open first,
    then the latest; ?status= and ?store_id= narrow them."""
    query = IncidentsQuery(request.GET)
    if not query.is_valid():
        return _bad_request(request, query)
    params = query.cleaned_data
    shown = _narrowed(request, scope, params["organization"])
    if isinstance(shown, HttpResponse):
        return shown
    page = params["page"] or 1
    try:
        listed = incident_reads.incidents_list(
            scope=shown,
            store_id=params["store_id"] or None,
            status=params["status"] or None,
            limit=INCIDENTS_PER_PAGE,
            offset=(page - 1) * INCIDENTS_PER_PAGE,
        )
    except incident_reads.IncidentNotFoundError as error:
        return _error(request, [str(error)], status=404)
    pages = max(1, -(-listed.total // INCIDENTS_PER_PAGE))
    kept = {name: params[name] for name in ("organization", "status", "store_id")}
    context = {
        "rows": _incident_rows(listed.incidents),
        "total": listed.total,
        "status": params["status"],
        "store_id": params["store_id"],
        "page": page,
        "pages": pages,
        "previous_url": _incidents_url(**kept, page=page - 1) if page > 1 else "",
        "next_url": _incidents_url(**kept, page=page + 1) if page < pages else "",
        **_organization_context(scope, shown),
        **_failing_channels_context(shown),
    }
    return render(request, "monitor/incidents.html", context)


@require_GET
@page_access
def report_download(
    request: HttpRequest, report_id: str, units: str, *, scope: Scope
) -> HttpResponseBase:
    """A Complete report's CSV (absolute or percent), as the API serves it."""
    report = report_get_failing_lost(report_id, scope=scope)
    if report is None or report.status != Report.Status.COMPLETE:
        return _error(request, [f"no Complete report with id {report_id!r}"], status=404)
    chunks = report_csv_chunks(report, percent=units == "percent")
    suffix = "-percent" if units == "percent" else ""
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{report_id}{suffix}.csv"'
    return response


@require_GET
@page_access
def store(request: HttpRequest, store_id: str, *, scope: Scope) -> HttpResponse:
    """One of the viewer's stores as of the latest Complete report's instant
    (?as_of= overrides)."""
    as_of_text = request.GET.get("as_of", "").strip()
    report = None
    as_of: datetime | None = None
    if as_of_text:
        try:
            as_of = parse_as_of(as_of_text)
        except ReportInputError as error:
            return _error(request, [str(error)], status=400)
    else:
        report = report_latest_complete(scope.own_reports())
        as_of = report.as_of if report else None
    try:
        story = store_story(store_id, as_of, scope=scope)
    except StoreNotFoundError as error:
        return _error(request, [str(error)], status=404)
    context: dict[str, object] = {
        "story": story,
        "report": report,
        "as_of_text": as_of_text,
        "hours_by_day": _hours_by_day(story.business_hours),
        **_store_incidents_context(story, scope),
    }
    if story.as_of is not None:
        context.update(_story_context(story))
    return render(request, "monitor/store.html", context)


def _store_incidents_context(story: StoreStory, scope: Scope) -> dict[str, object]:
    """The store's open incident (now, whatever the as-of instant), and its incidents
    overlapping the week shown, beside that week's outages."""
    open_now = incident_reads.incidents_list(
        scope=scope, store_id=story.store_id, status=Incident.Status.OPEN, limit=1
    ).incidents
    week: tuple[Incident, ...] = ()
    if story.as_of is not None:
        week = incident_reads.store_incidents(
            story.store_id, scope=scope, since=story.as_of - _WEEK, until=story.as_of
        )
    return {
        "open_incident": next(iter(_incident_rows(open_now)), None),
        "week_incidents": _incident_rows(week),
        "store_incidents_url": _incidents_url(store_id=story.store_id),
    }


def _story_context(story: StoreStory) -> dict[str, object]:
    assert story.as_of is not None
    zone = ZoneInfo(story.timezone)
    as_of_local = story.as_of.astimezone(zone)
    # Without a poll at or before the as-of instant no status is known: its
    # business hours are drawn as such, not left in the closed hours' grey.
    without_data = (
        [(i.start_local, i.end_local) for i in story.business_intervals]
        if story.last_poll is None
        else []
    )
    rows = day_rows(
        window_start=(story.as_of - _WEEK).astimezone(zone),
        window_end=as_of_local,
        segments=[(s.start_local, s.end_local, s.active) for s in story.segments],
        polls=[(p.at_local, p.active) for p in story.polls],
        without_data=without_data,
        special_dates=[(special.date, _special_text(special)) for special in story.special_dates],
        excluded=[(e.start_local, e.end_local, _excluded_text(e)) for e in story.exclusions],
    )
    outage_ticks = sum(outage.ticks for outage in story.outages)
    first_hour = first_business_hour(rows)
    return {
        "as_of_local": as_of_local,
        "without_data": bool(without_data),
        # Where a narrow screen scrolls the week chart to at first: business hours.
        "week_scroll_share": (
            f"{charts.week_scroll_share(first_hour):.4f}" if first_hour is not None else ""
        ),
        "last_poll_age": (
            duration_text(story.as_of - story.last_poll.at) if story.last_poll else None
        ),
        "figures": _figures(story.figures),
        "week_chart": charts.week_svg(
            rows, title=f"Store {story.store_id}: the week to {as_of_local:%a %d %b %H:%M} local"
        ),
        "segments": [(s, duration_text(s.end - s.start)) for s in story.segments],
        "outages": [(o, duration_text(o.end - o.start)) for o in story.outages],
        "outage_hours": hours_text(outage_ticks),
        "week_polls": [p for p in story.polls if p.at >= story.as_of - _WEEK],
        "special_dates": [(special, _special_text(special)) for special in story.special_dates],
        "exclusions": [(e, _excluded_text(e)) for e in story.exclusions],
    }


def _special_text(special: SpecialDate) -> str:
    """A date's special hours as text: "closed", or its rows' spans."""
    spans = [
        f"{_clock(row.start_time_local)}–{_clock(row.end_time_local)}"
        for row in special.rows
        if row.start_time_local is not None and row.end_time_local is not None
    ]
    return ", ".join(spans) or "closed"


def _excluded_text(period: ExcludedPeriod) -> str:
    whose = "every store" if period.every_store else "this store"
    reason = f": {period.reason}" if period.reason else ""
    return f"Excluded ({whose}{reason}) for {duration_text(period.end - period.start)}"


def _figures(figures: Figures | None) -> list[tuple[str, str]]:
    """(title, value) of the report row's six figures; an hour without business
    time says so, where the CSV prints 0.00 up and 0.00 down."""
    if figures is None:
        return []
    closed_hour = figures.business_ticks[0] == 0
    return [
        (
            _COLUMN_TITLES[column],
            _CLOSED_THIS_HOUR if closed_hour and column in _HOUR_COLUMNS else value,
        )
        for column, value in ((c, figures.columns[c]) for c in fleet_service.FIGURE_COLUMNS)
    ]


def _hours_by_day(rows: tuple[HoursRow, ...]) -> list[tuple[str, list[str]]]:
    """Each weekday's business hours as text (docs/report-semantics.md §4: a day
    without rows is open all day; §10.1: a closed row opens nothing)."""
    days = []
    for number, name in enumerate(_WEEKDAYS):
        texts = []
        for row in rows:
            if row.day != number:
                continue
            start, end = row.start_time_local, row.end_time_local
            if start is None or end is None:
                texts.append("closed")
                continue
            span = f"{_clock(start)}–{_clock(end)}"
            if start == end:
                span += " (24 hours)"
            elif end < start:
                span += " (overnight)"
            texts.append(span)
        days.append((name, texts or ["open all day (no hours row)"]))
    return days


def _clock(moment: time) -> str:
    """09:00, or 09:00:30 / 09:00:30.5 when the stored time has seconds."""
    return moment.isoformat("minutes" if not (moment.second or moment.microsecond) else "auto")


def _fleet_context(fleet: fleet_service.Fleet) -> dict[str, object]:
    counts = fleet.histogram()
    return {
        "stores_reported": len(fleet.store_ids),
        "share_day": fleet.share_up("day").percent(),
        "share_week": fleet.share_up("week").percent(),
        "without_business_time": fleet.without_business_time(),
        "histogram": charts.histogram_svg(
            counts,
            _HISTOGRAM_LABELS,
            title="Stores by share of the week's business time up (%)",
            axis_title="% of the week's business time up",
        ),
        "histogram_rows": list(zip(_HISTOGRAM_LABELS, counts, strict=True)),
    }


def _table_context(fleet: fleet_service.Fleet, params: dict[str, object]) -> dict[str, object]:
    sort = str(params["sort"] or fleet_service.WEEK_PCT)
    descending = params["order"] == "desc" if params["order"] else _WORST_FIRST_DESCENDING[sort]
    prefix = str(params["q"] or "")
    page = fleet.page(
        sort=sort,
        descending=descending,
        prefix=prefix,
        page=int(params["page"] or 1),  # type: ignore[call-overload]
        per_page=STORES_PER_PAGE,
    )
    base = {"report": fleet.report_id, "q": prefix}

    def url(**changes: object) -> str:
        query = {**base, "sort": sort, "order": "desc" if descending else "asc", **changes}
        return "?" + urlencode({k: v for k, v in query.items() if v not in ("", None)})

    columns = []
    for column in fleet_service.SORT_COLUMNS:
        current = column == sort
        next_descending = not descending if current else _WORST_FIRST_DESCENDING[column]
        columns.append(
            {
                "title": _COLUMN_TITLES[column],
                "url": url(sort=column, order="desc" if next_descending else "asc", page=1),
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    return {
        "page": page,
        "q": prefix,
        "columns": columns,
        "previous_url": url(page=page.page - 1) if page.page > 1 else "",
        "next_url": url(page=page.page + 1) if page.page < page.pages else "",
        "first_rank": (page.page - 1) * STORES_PER_PAGE + 1,
        "sort": sort,
        "order": "desc" if descending else "asc",
    }


def _narrowed(request: HttpRequest, scope: Scope, organization: str) -> Scope | HttpResponse:
    """The viewer's scope, narrowed to the organization filtered by (staff); the
    404 page when the viewer knows no such organization."""
    if not organization:
        return scope
    narrowed = scope.narrowed(organization)
    if narrowed is None:
        return _error(request, [f"no organization {organization!r}"], status=404)
    return narrowed


def _organization_context(viewer: Scope, shown: Scope) -> dict[str, object]:
    """Whose stores the page shows, and the platform's filter by organization
    (an organization sees itself alone: no choice to offer)."""
    filtered = viewer.is_platform and shown.organization is not None
    return {
        "organization": shown.organization,
        "organizations": list(Organization.objects.all()) if viewer.is_platform else [],
        "filter_query": f"?{urlencode({'organization': str(shown.organization)})}"
        if filtered
        else "",
    }


def _duration(report: Report) -> str:
    """How long a finished report took, e.g. "2.4 s"; "–" while it runs."""
    if report.finished_at is None:
        return "–"
    return seconds_text(report.finished_at - report.created_at)


def _fleet_url(report_id: str) -> str:
    return f"{reverse('pages:fleet')}?{urlencode({'report': report_id})}"


def _to_fleet(request: HtmxHttpRequest, report_id: str) -> HttpResponse:
    """To a report's fleet page: a whole-page redirect, also from an htmx request."""
    if request.htmx:
        return HttpResponseClientRedirect(_fleet_url(report_id))
    return redirect(_fleet_url(report_id))


def _bad_request(request: HttpRequest, form: forms.Form) -> HttpResponse:
    errors = [f"{field}: {' '.join(map(str, messages))}" for field, messages in form.errors.items()]
    return _error(request, errors, status=400)


def _error(request: HttpRequest, errors: list[str], *, status: int) -> HttpResponse:
    return render(
        request, "monitor/error.html", {"errors": errors, "status": status}, status=status
    )
