import re

import pytest

from madoguchi.tests.test_english_pages import build_shop, in_english


@pytest.mark.django_db
def test_dbg(client):
    shop = build_shop()
    in_english(client, shop["roles"]["admin"])
    for url in [f"/cases/{shop['case'].pk}/parts/side/", "/knowledge/"]:
        body = client.get(url).content.decode()
        for m in re.finditer(r"2026/01/01〜|柄", body):
            print(url, body[max(0,m.start()-300):m.end()+100].replace("\n"," "))
            print("-----")
