"""The test suite's settings: the project's own, with the suite's own local secret key.

The project's settings refuse to start without a DJANGO_SECRET_KEY of at least
50 characters (and DJANGO_DEBUG off); the test suite must run from a bare shell,
or one holding a shorter development key. The key is set in the environment,
so the processes the integration tests start inherit it.
"""

import os

from store_monitoring.devstack import LOCAL_SECRET_KEY

os.environ["DJANGO_SECRET_KEY"] = LOCAL_SECRET_KEY

from store_monitoring.settings import *  # noqa: F403

# Log-ins in tests (the pages, the lockout) hash passwords in microseconds
# rather than the production hasher's deliberate ~100 ms each.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The notification tests' receivers listen on 127.0.0.1 (the guard has its own tests).
NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
