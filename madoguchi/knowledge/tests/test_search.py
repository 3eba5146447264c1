"""Japanese search: 2-character words, width variants, phrases, ranking, kept up to date."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from madoguchi.cases import services as case_services
from madoguchi.cases.models import Channel, InteractionKind
from madoguchi.knowledge.models import SearchDoc
from madoguchi.knowledge.search import highlight, search
from madoguchi.testing.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


def case_ids(query: str) -> list[int]:
    return [hit.case_id for hit in search(query) if hit.kind in ("case", "message")]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Cases, messages and customers are indexed by the worker after the commit: at the end
    of a `with committed():` block the commit callbacks run, and with them the indexing task."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_two_character_words_find_their_cases(make_case: Any, committed: Any) -> None:
    with committed():
        delivery = make_case("荷物の件", "先週注文した急須の配送状況を教えてください。")
        returns = make_case("サイズ違い", "サイズが合わないので返品したいです。", category="description")
        broken = make_case("届いた皿", "お皿が破損した状態で届きました。", category="defect")
    assert case_ids("配送") == [delivery.pk]
    assert case_ids("返品") == [returns.pk]
    assert case_ids("破損") == [broken.pk]


def test_every_message_of_a_case_is_searchable_as_it_arrives(make_case: Any, agent: Any, committed: Any) -> None:
    with committed():
        case = make_case()
    with committed():
        case_services.do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                         body="追記です。配達員の方に置き配をお願いしました。")
    assert case_ids("置き配") == [case.pk]


def test_width_variants_are_the_same_word(make_case: Any, committed: Any) -> None:
    with committed():
        alpha = make_case("型番の問い合わせ", "型番ABC123の在庫はありますか。")
        kana = make_case("ﾍﾝﾋﾟﾝについて", "ﾍﾝﾋﾟﾝの手続きを知りたいです。")
    assert case_ids("ＡＢＣ１２３") == [alpha.pk]
    assert case_ids("abc123") == [alpha.pk]
    assert case_ids("ヘンピン") == [kana.pk]
    assert case_ids("ﾍﾝﾋﾟﾝ") == [kana.pk]


def test_exact_match_is_ranked_first(make_case: Any, committed: Any) -> None:
    with committed():
        exact = make_case("返品交換のお願い", "返品交換を希望します。")
        apart = make_case("交換について", "交換か返品のどちらかをお願いします。")
        newer = make_case("返品と交換", "交換または返品の方法を教えてください。")
    ids = case_ids("返品交換")
    assert ids[0] == exact.pk
    assert set(ids) == {exact.pk, apart.pk, newer.pk}


def test_quoted_phrase_must_occur_verbatim(make_case: Any, committed: Any) -> None:
    with committed():
        verbatim = make_case("未着", "商品が届かないまま一週間たちました。")
        make_case("未着2", "届かない商品があります。")
    assert case_ids('"商品が届かない"') == [verbatim.pk]
    assert case_ids("「商品が届かない」") == [verbatim.pk]


def test_orders_are_found_by_number_and_tracking_number(db: Any) -> None:
    order = OrderFactory(number="ORD-2026-004321", tracking_number="398712345678")
    by_number = [h.ref_id for h in search("ORD-2026-004321") if h.kind == "order"]
    by_tracking = [h.ref_id for h in search("３９８７１２３４５６７８") if h.kind == "order"]
    assert by_number == [order.pk]
    assert by_tracking == [order.pk]


def test_customers_are_found_by_name_and_kana(db: Any, committed: Any) -> None:
    with committed():
        customer = CustomerFactory(name="山田 太郎", kana="ヤマダ タロウ")
    assert [h.ref_id for h in search("山田", kinds=["customer"])] == [customer.pk]
    assert [h.ref_id for h in search("ﾔﾏﾀﾞ", kinds=["customer"])] == [customer.pk]


def test_highlight_marks_hits_and_escapes_everything_else() -> None:
    html = highlight("<b>配送</b>が遅れています", ["配送"])
    assert html == "&lt;b&gt;<mark>配送</mark>&lt;/b&gt;が遅れています"


def test_a_rolled_back_message_is_never_indexed(make_case: Any, committed: Any) -> None:
    with committed():
        case = make_case()
    with committed():  # the rolled-back message is handed to the worker, which finds no row for it
        with pytest.raises(RuntimeError), transaction.atomic():
            case_services.do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                             body="宅配ボックスに入っていませんでした。")
            raise RuntimeError
        case_services.do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                         body="置き配をお願いしました。")
    assert case_ids("宅配ボックス") == []
    assert case_ids("置き配") == [case.pk]


def test_reindex_command_rebuilds_the_index(make_case: Any) -> None:
    case = make_case("電源の不具合", "ケトルの電源が入りません。", category="defect")  # no commit: not indexed yet
    SearchDoc.objects.all().delete()
    assert case_ids("電源") == []
    call_command("reindex", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert case_ids("電源") == [case.pk]


def test_search_page_shows_highlighted_hits(client: Any, agent: Any, make_case: Any, committed: Any) -> None:
    with committed():
        case = make_case("配送の遅れ", "配送が遅れています。<script>alert(1)</script>")
    client.force_login(agent)
    response = client.get("/knowledge/search/", {"q": "配送"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"/cases/{case.pk}/" in html
    assert "<mark>配送</mark>" in html
    assert "<script>alert(1)" not in html


def test_customer_name_change_is_searchable(db: Any, committed: Any) -> None:
    with committed():
        customer = CustomerFactory(name="古い名前")
    with committed():
        customer.name = "新井 花子"
        customer.save()
    assert [h.ref_id for h in search("新井", kinds=["customer"])] == [customer.pk]


def test_filters_by_kind_and_period(client: Any, agent: Any, make_case: Any, committed: Any) -> None:
    from madoguchi.knowledge.tests.conftest import jst

    with committed():
        old = make_case("配送の件（昔）", "配送が遅れました。", received_at=jst(2024, 5, 1, 10, 0))
        new = make_case("配送の件", "配送が遅れています。")
        CustomerFactory(name="配送 太郎")
    assert {h.kind for h in search("配送", kinds=["customer"])} == {"customer"}
    client.force_login(agent)
    html = client.get("/knowledge/search/", {"q": "配送", "kind": "case", "period": "30"}).content.decode()
    assert f"/cases/{new.pk}/" in html and f"/cases/{old.pk}/" not in html
    assert "配送 太郎" not in html


def test_an_edited_subject_is_searchable(make_case: Any, agent: Any, committed: Any) -> None:
    with committed():
        case = make_case("問い合わせ", "よろしくお願いします。")
    with committed():
        case_services.do_update_case(case, actor=agent, expected_version=case.version, changes={"subject": "領収書の再発行"})
    assert case_ids("領収書") == [case.pk]


def test_a_tag_name_finds_its_cases_and_stops_when_the_tag_is_taken_off(make_case: Any, lead: Any, committed: Any) -> None:
    from madoguchi.cases import labels

    with committed():
        tagged = make_case("お問い合わせ", "先日の件です。")
        make_case("別のお問い合わせ", "よろしくお願いします。")
        tag = labels.do_create_tag(actor=lead, name="要返金", colour="red")
    with committed():
        labels.do_tag_case(tagged, tag, actor=lead)
    assert case_ids("要返金") == [tagged.pk]
    with committed():
        labels.do_untag_case(tagged, tag, actor=lead)
    assert case_ids("要返金") == []


def test_a_deleted_tag_no_longer_finds_its_cases(make_case: Any, lead: Any, committed: Any) -> None:
    from madoguchi.cases import labels

    with committed():
        tagged = make_case("お問い合わせ", "先日の件です。")
        tag = labels.do_create_tag(actor=lead, name="ギフト包装", colour="pink")
    with committed():
        labels.do_tag_case(tagged, tag, actor=lead)
    assert case_ids("ギフト包装") == [tagged.pk]
    with committed():
        labels.do_delete_tag(tag, actor=lead)
    assert case_ids("ギフト包装") == []


def test_a_custom_field_value_finds_its_case_and_so_does_reindex(make_case: Any, lead: Any, committed: Any) -> None:
    from madoguchi.cases import labels
    from madoguchi.cases.models import CustomField

    with committed():
        case = make_case("返品のお願い", "返品したいです。")
        store = CustomField.objects.create(label="購入店舗", kind="text")
    with committed():
        labels.do_set_field_values(case, actor=lead, raw={store.pk: "梅田店"})
    assert case_ids("梅田店") == [case.pk]
    call_command("reindex")
    assert case_ids("梅田店") == [case.pk]
