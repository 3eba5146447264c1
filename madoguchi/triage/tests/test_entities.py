from madoguchi.triage import entities


def test_order_numbers_as_customers_write_them() -> None:
    text = "注文番号：２０２６０５１２－００３４、それと KM-100123 と ＃1024 の件です。電話は090-1234-5678です。"
    assert entities.order_numbers(text) == ["20260512-0034", "1024", "KM-100123"]
    assert entities.order_numbers("ご注文ありがとうございました") == []


def test_carriers_by_the_names_customers_use() -> None:
    assert entities.carriers("クロネコの配達員が不在票を入れずに帰りました") == ["yamato"]
    assert entities.carriers("ゆうパックで届くはずが、佐川から連絡がきた") == ["sagawa", "japanpost"]
    assert entities.carriers("まだ届きません") == []


def test_products_named_in_the_text() -> None:
    names = [(1, "有田焼の皿"), (2, "土鍋"), (3, "A")]
    assert entities.products("ｱﾘﾀ焼の皿ではなく、土鍋が割れていました", names) == [2]
    assert entities.products("有田焼の皿が欠けていました a", names) == [1]
