"""The sync page in Chromium at desk and phone widths, with a long Japanese error: nothing
scrolls sideways, and 「今すぐ同期」 answers with its message."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.conftest import login, screenshot
from madoguchi.shop.models import SyncState
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.screenshots import new_context, settle, sideways

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_sync_page_fits_and_syncs_now(browser: Any, live_server: Any, shopify: Any) -> None:
    UserFactory(username="sync-admin", role=Role.ADMIN, display_name="店長 大野")
    SyncState.objects.create(platform="shopify", last_synced_at=timezone.now(), last_error_at=timezone.now(),
                             orders_created=1204, orders_updated=37, products_synced=86,
                             last_error="Shopify に 5 回試しましたが応答がありません: HTTP 503 が返りました。次の同期でもう一度試します。" * 3)
    for width in (1280, 390):
        context = new_context(browser, live_server.url, width, "ja")
        page = context.new_page()
        login(page, "sync-admin")
        page.goto("/settings/orders/sync/")
        settle(page)
        found = sideways(page, width)
        screenshot(page, f"shop-sync-{width}")
        assert found == [] or (width < 1000 and all("page scrolls" not in problem for problem in found)), found
        if width == 1280:
            page.click("[data-testid=sync-now-shopify]")
            page.wait_for_selector("text=Shopify の同期を予約しました")
        context.close()
