"""Amendment 5 (docs/report-semantics.md §1): `localtime`, `posixrules` and
`Factory` name no place, and the rules refuse them as zones. A store given one
before the amendment has its zone cleared: it then reads as a store without a
zone (America/Chicago, §4), as its zone was never a valid one. `localtime` is
the server's own zone, so figures may change: the data version is bumped (as
any change of zones bumps it, monitor.services.data_version), and no report
made before is reused after.
"""

from typing import Any

from django.db import migrations

# A copy of monitor.ingest.rules.PLACELESS_ZONES as the amendment wrote it: a
# migration must do the same on every database, whatever the code says later.
PLACELESS_ZONES = ("localtime", "posixrules", "Factory")
_VERSION_ROW = 1  # monitor.services.data_version's one row


def clear_placeless_zones(apps: Any, schema_editor: Any) -> None:
    store = apps.get_model("monitor", "Store")
    cleared = store.objects.filter(timezone_str__in=PLACELESS_ZONES).update(timezone_str="")
    if not cleared:
        return
    data_version = apps.get_model("monitor", "DataVersion")
    data_change = apps.get_model("monitor", "DataChange")
    row, _ = data_version.objects.select_for_update().get_or_create(pk=_VERSION_ROW)
    row.version += 1
    row.save(update_fields=["version"])
    data_change.objects.create(version=row.version, polls_from=None, any_report=True)


class Migration(migrations.Migration):
    dependencies = [
        ("monitor", "0018_incident_end_index"),
    ]

    # Backwards: nothing to restore (the zones cleared were never valid ones).
    operations = [migrations.RunPython(clear_placeless_zones, migrations.RunPython.noop)]
