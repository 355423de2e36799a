"""`python -m bench.pages`: server-side render time and size of each page.

Runs in the environment of an already-loaded database (DATABASE_URL): computes
a report with the jobs service, then renders each page in-process with
Django's test client (no network, no browser): the first render (the fleet
page then parses the report's CSVs) and the median of the next ones, in wall
and CPU time (the CPU time of this process: on a busy machine the steadier
figure; the database's own work is in the wall time only). One
request to the login page first warms the process up (templates, URLs,
static files), which is start-up, not a page's render.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")
    os.environ["API_KEYS_REQUIRED"] = "false"
    django.setup()
    from django.test import Client

    from monitor.models import Report
    from monitor.selectors import report_csv
    from monitor.services.report_parts import report_run

    report = Report.objects.create()
    report_run(report.report_id)
    report.refresh_from_db()
    if report.status != Report.Status.COMPLETE:
        raise SystemExit(f"bench.pages: the report failed: {report.error}")
    ids = [line.split(",", 1)[0] for line in report_csv(report).splitlines()[1:]]
    label = sys.argv[1] if len(sys.argv) > 1 else ""
    client = Client(HTTP_HOST="127.0.0.1")
    client.get("/accounts/login/")
    pages = {
        "fleet": "/",
        "fleet, sorted page 3 of a search": f"/?q={ids[len(ids) // 2][:1]}"
        "&sort=downtime_last_week&order=desc&page=3",
        "reports": "/reports/",
        "store": f"/stores/{ids[len(ids) // 3]}",
    }
    for name, path in pages.items():
        times, cpu_times, size = [], [], 0
        for _ in range(6):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(path)
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
            if response.status_code != 200:
                raise SystemExit(f"bench.pages: {path} answered {response.status_code}")
            size = len(response.content)
        print(
            f"{label:<16} page {name:<34} first {times[0] * 1000:4.0f} ms "
            f"(CPU {cpu_times[0] * 1000:4.0f} ms), then median "
            f"{statistics.median(times[1:]) * 1000:4.0f} ms "
            f"(CPU {statistics.median(cpu_times[1:]) * 1000:4.0f} ms), {size / 1024:5.1f} KB"
        )


if __name__ == "__main__":
    main()
