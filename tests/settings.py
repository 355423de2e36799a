"""The test suite's settings: the project's own, with a local secret key when none is set.

The project's settings refuse to start without DJANGO_SECRET_KEY (and
DJANGO_DEBUG off); the test suite must run from a bare shell. The key is set
in the environment, so the processes the integration tests start inherit it.
"""

import os

from tests.support.stack import LOCAL_SECRET_KEY

os.environ.setdefault("DJANGO_SECRET_KEY", LOCAL_SECRET_KEY)

from store_monitoring.settings import *  # noqa: F403
