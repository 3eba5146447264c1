"""The order-file parser on its own (no database): dates, amounts and whole files as generated
by Hypothesis come back as they were written; line numbers stay right whatever the cells hold."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.shop.order_files import (
    OrderFileError,
    ParsedOrder,
    Problem,
    RowError,
    carrier_of,
    open_order_file,
    parse_datetime,
    parse_yen,
)
from madoguchi.shop.tests.samples import (
    JST,
    SampleItem,
    SampleOrder,
    generic_file,
    generic_rows,
    shopify_file,
)

moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda value: value.replace(microsecond=0))
# Cells as shops fill them: Japanese text with commas, quotes and line breaks.
cells = st.text(alphabet=st.sampled_from(list("山田花子テスト,\"\n 　ａ１-#")), max_size=12)


@given(moments, st.sampled_from(["%Y-%m-%d %H:%M:%S +0900", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S+09:00"]))
def test_dates_in_every_way_shops_write_them(moment, layout) -> None:
    written = moment.strftime(layout)
    assert parse_datetime(written, "注文日時") == moment.replace(tzinfo=JST)


@given(moments)
def test_spreadsheet_dates_without_leading_zeros(moment) -> None:
    written = f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}"
    assert parse_datetime(written, "注文日時") == moment.replace(second=0, tzinfo=JST)


@given(st.integers(min_value=0, max_value=10**8))
def test_amounts_written_with_separators_yen_signs_and_full_width_digits(amount) -> None:
    for written in (str(amount), f"{amount:,}", f"¥{amount:,}", f"{amount}.00", f"{amount:,}円",
                    f"{amount}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))):
        assert parse_yen(written, "合計金額") == amount


@pytest.mark.parametrize("bad", ["abc", "-100", "1e400", "NaN", "12,34.5.6"])
def test_what_is_not_an_amount_is_refused_in_japanese(bad) -> None:
    with pytest.raises(RowError, match="合計金額"):
        parse_yen(bad, "合計金額")


@pytest.mark.parametrize(("text", "carrier"), [
    ("ヤマト運輸 宅急便", "yamato"), ("Yamato (JA)", "yamato"), ("ネコポス", "yamato"), ("佐川急便", "sagawa"),
    ("Japan Post (JA)", "japanpost"), ("ゆうパケット", "japanpost"), ("西濃運輸", "seino"), ("福山通運", "fukuyama"),
    ("送料無料", None), ("", None),
])
def test_carriers_named_in_shipping_methods(text, carrier) -> None:
    assert carrier_of(text) == carrier


def _parse(data: bytes) -> list[ParsedOrder | Problem]:
    return list(open_order_file(io.BytesIO(data)).orders())


orders_strategy = st.lists(
    st.builds(
        SampleOrder,
        number=st.integers(min_value=1, max_value=10**6).map(str),
        name=cells, email=st.just("a@example.jp"), phone=st.just("090-1111-2222"),
        created=moments.map(lambda value: value.replace(tzinfo=JST)),
        items=st.lists(st.builds(SampleItem, sku=st.text(alphabet="ABC-123", max_size=8), name=cells,
                                 quantity=st.integers(0, 50), price=st.integers(0, 10**6)), min_size=1, max_size=4),
        note=cells,
    ),
    max_size=6, unique_by=lambda order: order.number,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(orders_strategy)
def test_a_shopify_file_reads_back_as_written(orders) -> None:
    parsed = _parse(shopify_file(orders))
    assert all(isinstance(order, ParsedOrder) for order in parsed)
    assert [(o.number, o.fields["ordered_at"], o.customer_name.strip()) for o in parsed] == [  # type: ignore[union-attr]
        (order.number, order.created, order.name.strip()) for order in orders]
    assert [[(i.sku, i.name, i.quantity, i.unit_price_yen) for i in o.items] for o in parsed] == [  # type: ignore[union-attr]
        [(i.sku.strip(), i.name.strip(), i.quantity, i.price) for i in order.items] for order in orders]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(orders_strategy, st.data())
def test_a_broken_row_is_reported_on_its_own_line_whatever_the_cells_hold(orders, data) -> None:
    """Cells with line breaks make rows span lines; the reported line is where the row starts."""
    rows = generic_rows(orders, {})
    if len(rows) < 2:
        return
    broken = data.draw(st.integers(1, len(rows) - 1))
    rows[broken][15] = "たくさん"
    text = generic_file(rows, "cp932")
    line = 1 + sum(1 + "".join(cell for cell in row).count("\n") for row in rows[:broken])
    problems = [item for item in _parse(text) if isinstance(item, Problem)]
    assert problems == [Problem(line, "数量「たくさん」を個数として読めません。")]


def test_an_order_whose_rows_are_apart_is_refused() -> None:
    order = SampleOrder("2001", "山田 花子", "a@example.jp", "090", dt.datetime(2024, 5, 1, tzinfo=JST),
                        [SampleItem("A", "急須", 1, 100)])
    other = SampleOrder("2002", "佐藤 健一", "b@example.jp", "080", dt.datetime(2024, 5, 1, tzinfo=JST),
                        [SampleItem("B", "湯呑", 1, 100)])
    rows = generic_rows([order, other, order], {})
    parsed = _parse(generic_file(rows))
    assert [type(item).__name__ for item in parsed] == ["ParsedOrder", "ParsedOrder", "Problem"]
    assert parsed[2].line == 4  # type: ignore[union-attr]


def test_utf16_is_not_guessed() -> None:
    with pytest.raises(OrderFileError, match="文字コード"):
        open_order_file(io.BytesIO("注文番号,注文日時,数量\n".encode("utf-16")))
