"""The report engine: pure NumPy, no Django.

Arrays in (polls, business hours rows, zones, the as-of instant), a table out.
Every instant is an integer count of microseconds since the Unix epoch (UTC);
results are in ticks of half a microsecond, because the status switches at the
midpoint of two polls, which can fall half-way between two microseconds. So
every figure is exact until it is rounded for printing.
"""

from monitor.engine.render import render_csv
from monitor.engine.report import ReportInputs, ReportTable, compute_report

__all__ = ["ReportInputs", "ReportTable", "compute_report", "render_csv"]
