from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.testing.fake_platforms import FakeShopify

SECRET = "whsec-こもれび堂-2026"


@pytest.fixture
def shopify(settings: Any) -> Iterator[FakeShopify]:
    """A local Shopify the desk is configured to talk to; retries wait only milliseconds."""
    fake = FakeShopify().start()
    settings.MADOGUCHI_SHOPIFY_SHOP_URL = fake.url
    settings.MADOGUCHI_SHOPIFY_ACCESS_TOKEN = fake.token
    settings.MADOGUCHI_SHOPIFY_WEBHOOK_SECRET = SECRET
    settings.MADOGUCHI_SHOP_SYNC_ATTEMPTS = 4
    settings.MADOGUCHI_SHOP_SYNC_BACKOFF_SECONDS = 0.01
    settings.MADOGUCHI_SHOP_SYNC_MAX_WAIT_SECONDS = 5
    yield fake
    fake.stop()
