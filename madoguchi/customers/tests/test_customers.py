"""One customer across channels; merging two keeps every piece of history."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import AuditEvent
from madoguchi.customers.models import Customer, CustomerMerge, Identity, IdentityKind
from madoguchi.customers.services import (
    do_merge_customers,
    get_or_create_customer,
    normalise_identity,
)
from madoguchi.testing.factories import CaseFactory, CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (IdentityKind.EMAIL, "Ｙａｍａｄａ＠Example.JP ", "yamada@example.jp"),
        (IdentityKind.PHONE, "０９０－１２３４－５６７８", "09012345678"),
        (IdentityKind.PHONE, "+81 90-1234-5678", "09012345678"),  # one Japanese number, one form
        (IdentityKind.PHONE, "+81 (0)3-1234-5678", "0312345678"),
        (IdentityKind.X, "@Madoguchi_Shop", "madoguchi_shop"),
        (IdentityKind.LINE, "U1234abcd", "U1234abcd"),
    ],
)
def test_identities_are_normalised(kind, raw, stored):
    assert normalise_identity(kind, raw) == stored


def test_same_address_in_full_width_finds_the_same_customer():
    first, created = get_or_create_customer(name="山田 太郎", kind=IdentityKind.EMAIL, value="yamada@example.jp")
    again, created_again = get_or_create_customer(name="ヤマダ", kind=IdentityKind.EMAIL, value="ＹＡＭＡＤＡ@example.jp")
    assert created and not created_again and first == again


def test_merge_moves_identities_cases_and_orders_and_keeps_a_pointer():
    target, source = CustomerFactory(name="山田 太郎"), CustomerFactory(name="山田太郎（LINE）")
    Identity.objects.create(customer=source, kind=IdentityKind.LINE, value="U999")
    case, order = CaseFactory(customer=source), OrderFactory(customer=source)
    do_merge_customers(source=source, target=target, user=None, note="LINEでご本人と確認")
    assert Identity.objects.get(value="U999").customer == target
    case.refresh_from_db(), order.refresh_from_db(), source.refresh_from_db()
    assert case.customer == target and order.customer == target and source.merged_into == target


def test_merge_page_refuses_bad_numbers_in_japanese(client):
    client.force_login(UserFactory())
    target = CustomerFactory()
    for bad in ("abc", "1" * 30, "-3", "", "٣", "²"):
        response = client.post(f"/customers/{target.pk}/merge/", {"source": bad}, follow=True)
        assert response.status_code == 200
        assert "数字で入力してください" in response.content.decode()
    response = client.post(f"/customers/{target.pk}/merge/", {"source": str(target.pk)}, follow=True)
    assert "統合できるお客様が見つかりません" in response.content.decode()


def test_merged_customer_page_leads_to_the_survivor(client):
    client.force_login(UserFactory())
    target, source = CustomerFactory(), CustomerFactory()
    client.post(f"/customers/{target.pk}/merge/", {"source": f"#{source.pk}", "note": "同じ電話番号"})
    assert Customer.objects.get(pk=source.pk).merged_into == target
    assert client.get(f"/customers/{source.pk}/").url == f"/customers/{target.pk}/"


def test_merging_back_into_a_merged_customer_is_refused_so_pages_cannot_loop(client):
    client.force_login(UserFactory())
    a, b = CustomerFactory(name="小林 愛"), CustomerFactory(name="小林愛（LINE）")
    client.post(f"/customers/{b.pk}/merge/", {"source": str(a.pk), "note": "同じ方"})
    response = client.post(f"/customers/{a.pk}/merge/", {"source": str(b.pk), "note": "同じ方"}, follow=True)
    assert "すでに別のお客様に統合されています" in response.content.decode()
    a.refresh_from_db(), b.refresh_from_db()
    assert a.merged_into == b and b.merged_into is None
    assert client.get(f"/customers/{b.pk}/").status_code == 200
    with pytest.raises(ValueError):
        do_merge_customers(source=b, target=a, user=None, note="同じ方")


def test_full_width_customer_number_is_accepted(client):
    client.force_login(UserFactory())
    target, source = CustomerFactory(), CustomerFactory()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in str(source.pk))
    client.post(f"/customers/{target.pk}/merge/", {"source": f"＃{full_width}", "note": "注文番号で確認"})
    assert Customer.objects.get(pk=source.pk).merged_into == target


def test_merge_needs_a_reason_and_changes_nothing_without_one(client):
    client.force_login(UserFactory())
    target, source = CustomerFactory(name="中村 由美"), CustomerFactory(name="中村由美")
    case = CaseFactory(customer=source)
    for note in ("", "　 \n"):
        response = client.post(f"/customers/{target.pk}/merge/", {"source": str(source.pk), "note": note}, follow=True)
        assert response.status_code == 200
        assert "同じ方と判断した理由を入力してください" in response.content.decode()
    source.refresh_from_db(), case.refresh_from_db()
    assert source.merged_into is None and case.customer == source
    assert not CustomerMerge.objects.exists() and not AuditEvent.objects.filter(action="customer_merged").exists()


def test_merge_is_kept_with_who_and_why_and_written_into_each_moved_case(client):
    agent = UserFactory(display_name="佐藤 花子")
    client.force_login(agent)
    target, source = CustomerFactory(name="中村 由美"), CustomerFactory(name="中村由美（LINE）")
    moved, staying = CaseFactory(customer=source), CaseFactory(customer=target)
    client.post(f"/customers/{target.pk}/merge/", {"source": str(source.pk), "note": "ご登録の電話番号と直近の注文番号が一致"})
    merge = CustomerMerge.objects.get()
    assert (merge.source, merge.target, merge.merged_by) == (source, target, agent)
    assert merge.note == "ご登録の電話番号と直近の注文番号が一致"
    event = AuditEvent.objects.get(action="customer_merged")
    assert event.case == moved and event.actor == agent and event.changes == {"customer": [source.pk, target.pk]}
    assert not staying.audit_events.filter(action="customer_merged").exists()
    page = client.get(f"/customers/{target.pk}/").content.decode()
    assert "統合の記録" in page and "ご登録の電話番号と直近の注文番号が一致" in page and "佐藤 花子" in page
    assert "お客様の記録を統合" in client.get(f"/cases/{moved.pk}/").content.decode()
