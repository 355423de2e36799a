"""The Celery app's own pieces: beat's scheduler and its state file."""

from __future__ import annotations

from pathlib import Path

from store_monitoring.celery import PersistentScheduler, app


def test_beat_makes_the_folder_of_its_schedule_file(tmp_path: Path) -> None:
    """In a fresh clone var/ does not exist; beat died on it, and retention never ran."""
    schedule = tmp_path / "var" / "beat" / "celerybeat-schedule"

    scheduler = PersistentScheduler(app=app, schedule_filename=str(schedule))
    try:
        assert schedule.parent.is_dir()
        assert "prune-reports" in scheduler.schedule
    finally:
        scheduler.close()


def test_beat_uses_the_project_scheduler_and_keeps_its_file_under_var() -> None:
    assert app.conf.beat_scheduler == "store_monitoring.celery:PersistentScheduler"
    assert Path(app.conf.beat_schedule_filename).parent.name == "var"
