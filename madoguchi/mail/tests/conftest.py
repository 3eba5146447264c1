"""Background jobs run in the test thread (Huey immediate mode), whatever the environment
said when settings were first imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def huey_immediate() -> Iterator[None]:
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before
