"""Celery tasks: thin wrappers around the services, run by `celery -A store_monitoring worker`."""

from celery import shared_task

from monitor.services import jobs, report_retention


# Acknowledged only once the report is written, and handed back to the queue
# when the worker process running it dies (CELERY_TASK_ACKS_LATE and
# CELERY_TASK_REJECT_ON_WORKER_LOST in the settings): a killed worker's report
# is redelivered. report_run makes a second run of the same report harmless.
@shared_task(name=jobs.REPORT_RUN_TASK, ignore_result=True)
def report_run_task(report_id: str) -> None:
    jobs.report_run(report_id)


# Run by `celery -A store_monitoring beat` every REPORT_RETENTION_INTERVAL_SECONDS.
@shared_task(name="monitor.reports_prune", ignore_result=True)
def reports_prune_task() -> int:
    return report_retention.reports_prune()
