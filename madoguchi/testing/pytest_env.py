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

if "MADOGUCHI_DATA_DIR" not in os.environ:
    _data_dir = tempfile.mkdtemp(prefix="madoguchi-test-")
    os.environ["MADOGUCHI_DATA_DIR"] = _data_dir
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
# Background tasks run when they are enqueued (after the commit that enqueues them).
os.environ.setdefault("MADOGUCHI_TASKS_IMMEDIATE", "true")
