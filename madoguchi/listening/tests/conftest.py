"""The triage reader's starter model as the desk's current model (the reader reads every post)."""

from madoguchi.triage.tests.conftest import starter_model, starter_model_bytes

__all__ = ["starter_model", "starter_model_bytes"]
