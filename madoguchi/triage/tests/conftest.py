"""The starter model, trained once per test session and put in the data folder per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def starter_model_bytes(tmp_path_factory: Any) -> bytes:
    from madoguchi.triage import model

    path = tmp_path_factory.mktemp("triage") / "reader.pickle"
    model.save(model.starter(), path)
    return path.read_bytes()


def put_model(data_dir: Path, content: bytes) -> Path:
    from madoguchi.triage import model

    path = model.model_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def starter_model(starter_model_bytes: bytes) -> Iterator[Path]:
    """The starter model is the desk's current model (and is again after the test)."""
    from django.conf import settings

    from madoguchi.triage import services

    path = put_model(settings.DATA_DIR, starter_model_bytes)
    services._cached = None
    yield path
    put_model(settings.DATA_DIR, starter_model_bytes)
    services._cached = None
