"""The search page with what agents really type: inflected words, phone and order numbers
with hyphens or in full width, and the times of the hits in Japan time.

Every query goes through the search page (GET /knowledge/search/) as a logged-in agent; the
data is indexed the way the desk indexes it (the worker after the commit; orders in place)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from madoguchi.customers.models import IdentityKind
from madoguchi.customers.services import get_or_create_customer
from madoguchi.knowledge.tests.conftest import jst
from madoguchi.testing.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def page(client: Any, agent: Any) -> Any:
    """The result list of the search page for a query, as the agent's browser gets it."""
    client.force_login(agent)

    def results(query: str, **params: str) -> str:
        response = client.get("/knowledge/search/", {"q": query, **params})
        assert response.status_code == 200
        found = re.search(r'<ol class="kb-results" data-testid="search-results">(.*?)</ol>', response.content.decode(), re.S)
        assert found, response.content.decode()
        return found.group(1)

    return results


def case_links(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/cases/(\d+)/"', html)}


def test_a_stem_or_another_inflection_finds_the_inflected_word(make_case: Any, committed: Any, page: Any) -> None:
    with committed():
        broken = make_case("急須の破損", "本日届いた急須の注ぎ口が割れていました。交換をお願いできますか。", category="defect")
        late = make_case("商品未着", "10日に注文したタオルがまだ届いていません。", category="delivery")
        make_case("領収書", "領収書を発行してください。", category="other")
    for query in ("割れ", "割れる", "割れた", "割れてる"):
        assert case_links(page(query)) == {broken.pk}, query
    for query in ("届かない", "届く", "届いてない", "届きません"):
        assert late.pk in case_links(page(query)), query
    # Two-character words are still found, alone and beside an inflected one.
    assert case_links(page("注文")) == {late.pk}
    assert case_links(page("急須 割れ")) == {broken.pk}


def test_a_phone_number_with_hyphens_finds_the_customer(db: Any, committed: Any, page: Any) -> None:
    with committed():
        customer, _created = get_or_create_customer(name="松本 美咲", kana="マツモト ミサキ", kind=IdentityKind.PHONE,
                                                    value="070-1743-1954")
    href = f'href="/customers/{customer.pk}/"'
    for query in ("07017431954", "070-1743-1954", "０７０－１７４３－１９５４", "070ー1743ー1954", "+81 70-1743-1954",
                  "(070)1743-1954"):
        assert href in page(query), query
    assert href in page("070-1743-1954", kind="customer")


def test_an_order_number_is_found_with_or_without_its_hyphen_and_in_full_width(db: Any, page: Any) -> None:
    OrderFactory(number="KM-100123", tracking_number="398712345678")
    OrderFactory(number="KM-100124", tracking_number="398712345679")
    for query in ("KM-100123", "KM100123", "km100123", "ＫＭ－１００１２３", "ＫＭ１００１２３", "KMー100123"):
        html = page(query)
        assert "KM-100123" in html and "KM-100124" not in html, query
    for query in ("3987-1234-5678", "398712345678", "３９８７１２３４５６７８"):
        html = page(query)
        assert "KM-100123" in html and "KM-100124" not in html, query


def test_a_message_quoting_the_numbers_is_found_by_them(make_case: Any, committed: Any, page: Any) -> None:
    with committed():
        case = make_case("注文の変更", "注文番号KM-100777の配送先を変更したいです。日中は070-2222-3333にお電話ください。")
    for query in ("KM100777", "km-100777", "07022223333", "070-2222-3333"):
        assert case_links(page(query)) == {case.pk}, query


def test_result_times_are_shown_in_japan_time(make_case: Any, committed: Any, page: Any) -> None:
    with committed():
        # 08:30 on 1 March in Tokyo is still 28 February in UTC (23:30).
        make_case("早朝のお問い合わせ", "ギフト包装の変更をお願いします。", received_at=jst(2026, 3, 1, 8, 30))
    html = page("ギフト包装")
    assert "2026/03/01 08:30" in html
    assert "2026/02/28" not in html
