"""A customer's posts on the listening queue are personal data: the export has them, the
erasure empties them (those turned into their cases and those under their X handle)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.listening.models import ListeningPost
from madoguchi.privacy.services import ERASED, do_erase_customer, export_customer

pytestmark = [pytest.mark.django_db]


def test_export_and_erasure_reach_the_customers_posts() -> None:
    hanako = Customer.objects.create(name="佐藤 花子")
    Identity.objects.create(customer=hanako, kind=IdentityKind.X, value="hanako_tea")
    mine = ListeningPost.objects.create(platform="x", post_id="1", author_handle="Hanako_Tea", author_name="はなこ",
                                        text="急須が割れていました", posted_at=timezone.now(), raw={"text": "急須が割れていました"})
    other = ListeningPost.objects.create(platform="x", post_id="2", author_handle="someone", text="玉露おいしい",
                                         posted_at=timezone.now())
    assert [row["post_id"] for row in export_customer(hanako)["social_posts"]] == ["1"]
    done = do_erase_customer(hanako)
    assert done["social_posts"] == 1
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.text, mine.author_handle, mine.author_name, mine.raw) == (ERASED, "", "", {})
    assert other.text == "玉露おいしい"
