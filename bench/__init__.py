"""`make bench`: import and report figures on the real data's shape.

The benchmarks run the settings in production mode on databases of their own:
they bring the test suite's local key, since a shorter development key in the
shell would be refused (production needs 50 characters or more).
"""

import os

from store_monitoring.devstack import LOCAL_SECRET_KEY

os.environ["DJANGO_SECRET_KEY"] = LOCAL_SECRET_KEY
