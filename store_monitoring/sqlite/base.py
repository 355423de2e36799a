"""Django's SQLite backend, creating the database file's directory when it first connects.

The default database lives under var/, which a fresh clone does not have.
Creating it here, not when the settings are imported, leaves every command
that never opens the database (and every PostgreSQL set-up) free of side effects.
"""

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if not self.is_in_memory_db():
            Path(self.settings_dict["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
