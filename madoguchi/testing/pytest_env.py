"""Test environment defaults, loaded as a pytest plugin (`-p` in pyproject's addopts).

pytest-django imports the settings before any conftest.py runs, so defaults set in a
conftest come too late. Without this, tests would write uploads and enqueue background
tasks into ./madoguchi-data, the data folder of the desk a developer runs on the same
checkout, whose consumer would later run those tasks against the real database.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Each pytest-xdist worker (bin/test runs the suite on every core) gets a data folder of its
# own: a worker inherits the environment of the process that started it, and two workers
# sharing one folder would share the message reader's model file and the uploads.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if "MADOGUCHI_DATA_DIR" not in os.environ or os.environ.get("MADOGUCHI_TEST_DATA_DIR_OF") not in (None, _worker):
    _data_dir = tempfile.mkdtemp(prefix=f"madoguchi-test-{_worker}-" if _worker else "madoguchi-test-")
    os.environ["MADOGUCHI_DATA_DIR"] = _data_dir
    os.environ["MADOGUCHI_TEST_DATA_DIR_OF"] = _worker
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
# Background tasks run when they are enqueued (after the commit that enqueues them).
os.environ.setdefault("MADOGUCHI_TASKS_IMMEDIATE", "true")
