"""The message reader's starter model for the desk the serve test starts (triage's fixture)."""

from madoguchi.triage.tests.conftest import starter_model_bytes  # noqa: F401  (a fixture)
