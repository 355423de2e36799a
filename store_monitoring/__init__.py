"""The project: settings, URLs, and the Celery app (store_monitoring.celery).

The Celery app is loaded by what uses it, not whenever Django starts: `celery
-A store_monitoring` finds it in store_monitoring.celery, and monitor.tasks
(the only module of the app that imports Celery) imports it before declaring
its tasks, so that they bind to it. A command that sends no job, such as
`generate_report` or an import, then starts without importing Celery.
"""

from typing import Any

__all__ = ["celery_app"]


def __getattr__(name: str) -> Any:
    """`store_monitoring.celery_app`, imported on first use."""
    if name == "celery_app":
        from store_monitoring.celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
