"""The original service's five tables, as read-only views over the stored data
(docs/coming-from-the-original-service.md): the SQL and the dashboards written
against them keep working.

`report` reads each Complete report's figures from the CSV rows its parts
stored, so it shows exactly what the report's CSV says.

PostgreSQL only. On SQLite a view would block later migrations: Django changes
a column there by building a new table and renaming it over the old one, and
SQLite refuses the rename while a view reads the table. And `report` would
need regular expressions, which SQLite lacks.

A later migration that changes the type of a column a view reads must drop
the view first and create it again (PostgreSQL refuses otherwise); making a
column nullable needs nothing.

The statements are written out here, not taken from monitor.db: a migration
must create what it created the day it was written.
"""

from typing import Any

from django.db import migrations

# No view can be written through. A view over one table alone would be (a DELETE
# through `report_status` would delete reports): `CROSS JOIN (SELECT) AS
# read_only`, one row of no columns, makes two sources of one, which the
# planner removes again.
READ_ONLY = "CROSS JOIN (SELECT) AS read_only"

# A part's result_csv holds its rows without the header, as csv.writer wrote
# them: the store id first (quoted when it holds a comma, a quote or a line
# break, a quote doubled inside), then six plain numbers. The pattern reads
# one row a match, in order.
CSV_ROW = r'("(?:[^"]|"")*"|[^,"\n]*),([^,\n]*),([^,\n]*),([^,\n]*),([^,\n]*),([^,\n]*),([^,\n]*)\n'
REPORT_VIEW = rf"""
    SELECT p.report_id AS report_id,
           CASE WHEN left(r.cells[1], 1) = '"'
                THEN replace(substr(r.cells[1], 2, length(r.cells[1]) - 2), '""', '"')
                ELSE r.cells[1] END AS store_id,
           r.cells[2]::numeric AS uptime_last_hour,
           r.cells[3]::numeric AS uptime_last_day,
           r.cells[4]::numeric AS uptime_last_week,
           r.cells[5]::numeric AS downtime_last_hour,
           r.cells[6]::numeric AS downtime_last_day,
           r.cells[7]::numeric AS downtime_last_week
    FROM monitor_report AS report
    JOIN monitor_reportpart AS p ON p.report_id = report.report_id
    CROSS JOIN LATERAL regexp_matches(p.result_csv, '{CSV_ROW}', 'g') AS r (cells)
    WHERE report.status = 'Complete'
"""


VIEWS = {
    "store_status": """
        SELECT s.store_id AS store_id,
               CASE WHEN p.active THEN 'active' ELSE 'inactive' END AS status,
               p.timestamp_utc AS timestamp_utc
        FROM monitor_statuspoll AS p JOIN monitor_store AS s ON s.id = p.store_id
    """,
    "store_business_hour": """
        SELECT s.store_id AS store_id, h.day_of_week AS day,
               h.start_time_local AS start_time_local, h.end_time_local AS end_time_local
        FROM monitor_businesshours AS h JOIN monitor_store AS s ON s.id = h.store_id
    """,
    # A store without a zone has none here, as it had no row in the original file.
    "timezones": f"""
        SELECT s.store_id AS store_id, s.timezone_str AS timezone_str
        FROM monitor_store AS s {READ_ONLY} WHERE s.timezone_str <> ''
    """,
    "report_status": f"""
        SELECT r.report_id AS report_id, r.status AS status FROM monitor_report AS r {READ_ONLY}
    """,
    "report": REPORT_VIEW,
}


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name, sql in VIEWS.items():
            schema_editor.execute(f"CREATE VIEW {name} AS {sql}")


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name in VIEWS:
            schema_editor.execute(f"DROP VIEW IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("monitor", "0009_store_calendar")]

    operations = [migrations.RunPython(create, drop)]
