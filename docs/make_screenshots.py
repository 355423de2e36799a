"""`make screenshots`: PNGs of every page, light and dark, 1,440 and 390 px wide.

Starts the app on a fresh SQLite database under a temporary directory, loads
generated sample data (never the real data set), runs a report through the
API, then has Debian's Chromium (driven by Playwright) photograph the fleet,
the reports list and one store's page into docs/screenshots/.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import from the checkout
from tests.support.browser import CHROMIUM, launch_chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
VIEWPORTS = [(1440, 900), (390, 844)]  # desktop, phone
SAMPLE_STORES = 600


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"screenshots: the server at {url} did not come up")


def complete_report(base: str, as_of: str | None = None) -> str:
    """Trigger a report through the API (as of the latest poll by default), wait for it; its CSV."""
    trigger = urllib.request.Request(
        f"{base}/api/monitor/trigger_report",
        data=json.dumps({"as_of": as_of} if as_of else {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    report_id = json.load(urllib.request.urlopen(trigger))["report_id"]
    for _ in range(300):
        with urllib.request.urlopen(f"{base}/api/monitor/get_report/{report_id}") as answer:
            if answer.headers["X-Report-Status"] == "Complete":
                return str(answer.read().decode())
            if answer.headers["X-Report-Status"] == "Failed":
                raise SystemExit(f"screenshots: the report failed: {answer.read().decode()}")
        time.sleep(0.2)
    raise SystemExit("screenshots: the report did not finish")


def telling_store(report_csv: str) -> str:
    """A store with business hours (not open all week) and both up and down time in
    the week: the most telling chart."""
    rows = list(csv.DictReader(io.StringIO(report_csv)))

    def week(row: dict[str, str]) -> tuple[float, float]:
        return float(row["uptime_last_week"]), float(row["downtime_last_week"])

    telling = [r for r in rows if all(week(r)) and 30 < sum(week(r)) < 120]
    chosen = max(telling or rows, key=lambda r: week(r)[1])
    return chosen["store_id"]


def photograph(base: str, store_id: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pages = {"fleet": "/", "reports": "/reports/", "store": f"/stores/{store_id}"}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for scheme in ("light", "dark"):
            for width, height in VIEWPORTS:
                context = browser.new_context(
                    viewport={"width": width, "height": height}, color_scheme=scheme
                )
                page = context.new_page()
                for name, path in pages.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    target = OUT / f"{name}-{scheme}-{width}.png"
                    page.screenshot(path=target, full_page=True)
                    print(f"wrote {target.relative_to(ROOT)}")
                context.close()
        browser.close()


def main() -> None:
    if not CHROMIUM.exists():
        raise SystemExit(f"screenshots: {CHROMIUM} is missing: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="store-monitoring-screens-") as var:
        env = dict(os.environ, STORE_MONITORING_VAR_DIR=var, API_KEYS_REQUIRED="false")
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "load_sample_data", "--stores", str(SAMPLE_STORES))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(f"{base}/reports/")
            complete_report(base, as_of="2023-01-24T12:00:00Z")  # an earlier one, listed too
            store_id = telling_store(complete_report(base))
            photograph(base, store_id)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
