"""`madoguchi import-orders`: Shopify, BASE and generic order files become orders, customers and
items; a second import changes nothing, a changed order is updated, a broken row is reported
with its line number and the rest import."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.shop.models import (
    Carrier,
    ImportRun,
    ImportRunState,
    Order,
    OrderSource,
    OrderStatus,
    Product,
)
from madoguchi.shop.tests.samples import (
    JST,
    SampleItem,
    SampleOrder,
    base_file,
    generic_file,
    generic_rows,
    shopify_file,
)
from madoguchi.testing.factories import CustomerFactory, IdentityFactory, OrderFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2024, 5, 1, 10, 15, tzinfo=JST)


def _orders() -> list[SampleOrder]:
    return [
        SampleOrder("1001", "山田 花子", "hanako.yamada@example.jp", "090-1234-5678", T0,
                    [SampleItem("MUG-AI", "有田焼 マグカップ 藍", 2, 2980), SampleItem("SARA-01", "波佐見焼 小皿 5枚組", 1, 3850)],
                    kana="ヤマダ ハナコ", fulfilled_at=T0 + dt.timedelta(days=1), tracking="4912-3456-7890", carrier="ヤマト運輸",
                    note="のし紙をお願いします。\n表書きは「御祝」で"),
        SampleOrder("1002", "佐藤 健一", "kenichi@example.jp", "080-2222-3333", T0 + dt.timedelta(hours=2),
                    [SampleItem("TEA-SEN", "八女茶 煎茶 100g", 3, 1620)], method="佐川急便 飛脚宅配便"),
        SampleOrder("1003", "鈴木 美咲", "misaki@example.jp", "070-4444-5555", T0 + dt.timedelta(hours=3),
                    [SampleItem("KYUSU-T", "常滑焼 急須 朱泥", 1, 8800)], financial="voided",
                    cancelled_at=T0 + dt.timedelta(hours=5)),
        SampleOrder("1004", "高橋 誠", "makoto@example.jp", "03-1234-5678", T0 + dt.timedelta(hours=4),
                    [SampleItem("TOWEL-IM", "今治タオル フェイスタオル 白", 2, 1430)], financial="refunded", refunded=3460,
                    fulfilled_at=T0 + dt.timedelta(days=1)),
    ]


def _run(path: Path) -> str:
    out = StringIO()
    call_command("import-orders", str(path), stdout=out)
    return out.getvalue()


def test_shopify_export_with_multi_line_cancelled_and_refunded_orders(tmp_path) -> None:
    path = tmp_path / "orders_export_1.csv"
    path.write_bytes(shopify_file(_orders()))
    output = _run(path)
    assert "新規 4 件" in output and "取り込めなかった注文 0 件" in output
    first = Order.objects.get(number="1001")
    assert (first.source, first.external_id, first.status) == (OrderSource.SHOPIFY, "#1001", OrderStatus.FULFILLED)
    assert first.ordered_at == T0 and first.shipped_at == T0 + dt.timedelta(days=1)
    assert first.amount_yen == 2 * 2980 + 3850 + 600 and first.carrier == Carrier.YAMATO  # from the shipping method
    assert list(first.items.order_by("pk").values_list("sku", "name", "quantity", "unit_price_yen")) == [
        ("MUG-AI", "有田焼 マグカップ 藍", 2, 2980), ("SARA-01", "波佐見焼 小皿 5枚組", 1, 3850)]
    assert Product.objects.get(sku="MUG-AI").name == "有田焼 マグカップ 藍"
    assert first.customer.name == "山田 花子"
    assert set(first.customer.identities.values_list("kind", "value")) == {
        (IdentityKind.EMAIL, "hanako.yamada@example.jp"), (IdentityKind.PHONE, "09012345678")}
    assert Order.objects.get(number="1002").carrier == Carrier.SAGAWA
    cancelled = Order.objects.get(number="1003")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancelled_at == T0 + dt.timedelta(hours=5)
    refunded = Order.objects.get(number="1004")
    assert (refunded.status, refunded.refunded_yen) == (OrderStatus.REFUNDED, 3460)
    run = ImportRun.objects.get()
    assert (run.state, run.file_format, run.created, run.user) == (ImportRunState.DONE, OrderSource.SHOPIFY, 4, None)


def test_reimport_changes_nothing_and_a_changed_order_is_updated(tmp_path) -> None:
    orders = _orders()
    path = tmp_path / "orders_export.csv"
    extra = ["Tracking Number", "Tracking Company"]
    path.write_bytes(shopify_file(orders, extra))
    _run(path)
    before = {o.pk: (o.status, o.shipped_at, o.tracking_number) for o in Order.objects.all()}
    counts = (Customer.objects.count(), Identity.objects.count(), Product.objects.count())

    assert "新規 0 件、更新 0 件、変更なし 4 件" in _run(path)
    assert {o.pk: (o.status, o.shipped_at, o.tracking_number) for o in Order.objects.all()} == before
    assert (Customer.objects.count(), Identity.objects.count(), Product.objects.count()) == counts

    # A week later: 1002 shipped with a tracking number, 1001 refunded in part, 1003 still cancelled.
    orders[1].fulfilled_at = T0 + dt.timedelta(days=2)
    orders[1].extra = {"Tracking Number": "3600-1111-2222", "Tracking Company": "Sagawa (JA)"}
    orders[0].financial, orders[0].refunded = "partially_refunded", 2980
    path.write_bytes(shopify_file(orders, extra))
    assert "新規 0 件、更新 2 件、変更なし 2 件" in _run(path)
    shipped = Order.objects.get(number="1002")
    assert (shipped.status, shipped.tracking_number, shipped.carrier) == (OrderStatus.FULFILLED, "360011112222", Carrier.SAGAWA)
    assert shipped.shipped_at == T0 + dt.timedelta(days=2)
    partly = Order.objects.get(number="1001")
    assert (partly.status, partly.refunded_yen) == (OrderStatus.FULFILLED, 2980)

    orders[1].cancelled_at = T0 + dt.timedelta(days=3)
    path.write_bytes(shopify_file(orders, extra))
    _run(path)
    assert Order.objects.get(number="1002").status == OrderStatus.CANCELLED
    assert Order.objects.count() == 4 and ImportRun.objects.count() == 4


def test_a_file_without_tracking_columns_keeps_the_tracking_number_an_agent_typed(tmp_path) -> None:
    path = tmp_path / "orders_export.csv"
    path.write_bytes(shopify_file(_orders()))
    _run(path)
    Order.objects.filter(number="1002").update(tracking_number="360099998888")
    assert "変更なし 4 件" in _run(path)
    assert Order.objects.get(number="1002").tracking_number == "360099998888"


def test_customers_are_matched_by_their_email_or_phone_as_normalised(tmp_path) -> None:
    regular = CustomerFactory(name="山田 花子")
    IdentityFactory(customer=regular, kind=IdentityKind.EMAIL, value="hanako.yamada@example.jp")
    caller = CustomerFactory(name="佐藤 健一")
    IdentityFactory(customer=caller, kind=IdentityKind.PHONE, value="08022223333")
    orders = _orders()
    orders[0].email = "Hanako.Yamada@EXAMPLE.jp"
    orders[1].email, orders[1].phone = "", "０８０－２２２２－３３３３"
    path = tmp_path / "orders_export.csv"
    path.write_bytes(shopify_file(orders))
    _run(path)
    assert Order.objects.get(number="1001").customer == regular
    assert Order.objects.get(number="1002").customer == caller
    # The phone number in the order joins the customer who was known by e-mail only.
    assert regular.identities.filter(kind=IdentityKind.PHONE, value="09012345678").exists()
    assert Customer.objects.count() == 4


def test_base_csv_in_cp932(tmp_path) -> None:
    orders = _orders()
    orders[0].items[1] = SampleItem("SARA-01", "波佐見焼 小皿（藍）", 1, 3850)
    path = tmp_path / "order_20240501.csv"
    path.write_bytes(base_file([o for o in orders], state={"1003": "キャンセル"}))
    assert path.read_bytes().decode("cp932")  # really Shift_JIS: not valid UTF-8
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    output = _run(path)
    assert "取り込み完了（BASE）: 新規 4 件" in output
    first = Order.objects.get(number="1001")
    assert first.customer.name == "山田 花子" and first.status == OrderStatus.FULFILLED
    assert first.amount_yen == 2 * 2980 + 3850 + 600  # items + 送料
    assert list(first.items.order_by("pk").values_list("name", "sku")) == [
        ("有田焼 マグカップ 藍", "BASE-MUG-AI"), ("波佐見焼 小皿（藍）", "BASE-SARA-01")]
    assert Order.objects.get(number="1002").status == OrderStatus.PAID
    assert Order.objects.get(number="1003").status == OrderStatus.CANCELLED
    assert "変更なし 4 件" in _run(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp932"])
def test_generic_format_in_each_encoding(tmp_path, encoding) -> None:
    status = {"1001": "発送済み", "1002": "支払い済み", "1003": "キャンセル", "1004": "返金済み"}
    path = tmp_path / "注文一覧.csv"
    path.write_bytes(generic_file(generic_rows(_orders(), status), encoding))
    assert "新規 4 件" in _run(path)
    first = Order.objects.get(number="1001")
    assert (first.status, first.carrier, first.tracking_number) == (OrderStatus.FULFILLED, Carrier.YAMATO, "491234567890")
    assert first.customer.kana == "ヤマダ ハナコ" and first.items.count() == 2
    assert Order.objects.get(number="1004").refunded_yen == 3460
    assert Order.objects.get(number="1003").status == OrderStatus.CANCELLED


def test_a_broken_row_is_reported_with_its_line_number_and_the_rest_import(tmp_path) -> None:
    rows = generic_rows(_orders(), {})
    # Line 1 is the header; 1001 has two rows (2, 3), 1002 is line 4, 1003 line 5, 1004 line 6.
    rows[3][15] = "三"  # 1002's quantity
    rows[5][1] = "2024/13/45 10:00"  # 1004's order date
    rows.insert(5, ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""])  # a blank line 6 is ignored
    path = tmp_path / "注文一覧.csv"
    path.write_bytes(generic_file(rows, "cp932"))
    output = _run(path)
    assert "新規 2 件" in output and "取り込めなかった注文 2 件" in output
    assert "4 行目: 数量「三」を個数として読めません。" in output
    assert "7 行目: 注文日時「2024/13/45 10:00」は存在しない日時です。" in output
    assert set(Order.objects.values_list("number", flat=True)) == {"1001", "1003"}
    assert ImportRun.objects.get().problems == [[4, "数量「三」を個数として読めません。"],
                                                 [7, "注文日時「2024/13/45 10:00」は存在しない日時です。"]]


def test_line_numbers_count_the_lines_of_a_note_that_spans_lines(tmp_path) -> None:
    orders = _orders()
    orders[1].items[0] = SampleItem("TEA-SEN", "八女茶 煎茶 100g", 1, 1620)
    path = tmp_path / "orders_export.csv"
    text = shopify_file(orders).decode("utf-8").splitlines(keepends=True)
    # 1001's note takes lines 2-3, its second item is line 4; break 1002's price (line 5).
    assert text[4].startswith("#1002,")
    text[4] = text[4].replace(",1620,", ",千六百二十円,")
    path.write_text("".join(text), encoding="utf-8")
    output = _run(path)
    assert "5 行目: Lineitem price「千六百二十円」を金額として読めません。" in output
    assert Order.objects.count() == 3


def test_an_unknown_file_is_refused_in_japanese(tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("顧客番号,氏名,住所\n1,山田 花子,東京都\n", encoding="utf-8")
    with pytest.raises(CommandError, match="注文ファイルの形式を判別できません"):
        _run(path)
    assert ImportRun.objects.get().state == ImportRunState.FAILED
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(CommandError, match="文字コードを読めません"):
        _run(binary)


def test_an_order_typed_by_hand_is_taken_over_and_another_sources_number_is_not(tmp_path) -> None:
    typed = OrderFactory(number="1001", amount_yen=100)
    OrderFactory(number="1002", source=OrderSource.BASE, external_id="1002")
    path = tmp_path / "orders_export.csv"
    path.write_bytes(shopify_file(_orders()))
    output = _run(path)
    assert "新規 2 件、更新 1 件" in output
    assert "注文番号 1002 は、別の取り込み元（BASE）の注文にすでに使われています。" in output
    typed.refresh_from_db()
    assert (typed.source, typed.external_id, typed.amount_yen) == (OrderSource.SHOPIFY, "#1001", 10410)
    assert typed.items.count() == 2
