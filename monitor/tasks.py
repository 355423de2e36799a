"""Celery tasks: thin wrappers around the services, run by `celery -A store_monitoring worker`."""

import logging

from celery import shared_task
from django.db import DatabaseError

from monitor.services import jobs, poll_retention, report_parts, report_retention

logger = logging.getLogger(__name__)


# Acknowledged only once the report is written, and handed back to the queue
# when the worker process running it dies (CELERY_TASK_ACKS_LATE and
# CELERY_TASK_REJECT_ON_WORKER_LOST in the settings): a killed worker's report
# is redelivered. report_run makes a second run of the same report harmless.
@shared_task(name=jobs.REPORT_RUN_TASK, ignore_result=True)
def report_run_task(report_id: str) -> None:
    jobs.report_run(report_id)


# One part of a report (services.report_parts), acknowledged and redelivered
# as whole reports are. A database error that escaped it (claiming the part,
# or finishing the report once the part is in) sends it again a few times,
# with backoff: a task that raised is acknowledged, and nothing else would
# finish a report whose parts are all in.
@shared_task(
    name=report_parts.PART_RUN_TASK,
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    max_retries=5,
    retry_backoff=True,
)
def report_part_run_task(part_id: int) -> None:
    report_parts.part_run(part_id)


# Run by `celery -A store_monitoring beat` every REPORT_RETENTION_INTERVAL_SECONDS.
@shared_task(name="monitor.reports_prune", ignore_result=True)
def reports_prune_task() -> int:
    return report_retention.reports_prune()


# Run by Celery beat on PRUNE_POLLS_CRON when PRUNE_POLLS_OLDER_THAN_DAYS is set.
@shared_task(name="monitor.polls_prune", ignore_result=True)
def polls_prune_task(older_than_days: int) -> int:
    cutoff = poll_retention.prune_cutoff(older_than_days)
    pruned = poll_retention.polls_prune(cutoff=cutoff)
    logger.info(
        "pruned %d polls taken before %s; kept the last one of %d stores",
        pruned.deleted,
        pruned.horizon.isoformat(),
        pruned.kept,
    )
    return pruned.deleted
