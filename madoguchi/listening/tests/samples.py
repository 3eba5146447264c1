"""Generated post files as listening tools and the X API write them: Japanese posts about a
shop (complaints, questions, praise, noise) with emoji, full-width letters and digits, line
breaks, commas and quotes inside the text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from collections.abc import Iterator
from typing import Any

COMPLAINTS = [
    "注文した急須がまだ届かない。{n}日も待ってるんだけど😡 #窓口茶舗",
    "＠madoguchi_shop 発送メールから一週間、追跡番号で調べても「お問い合わせ番号が見つかりません」。どうなってるの？",
    "届いたマグカップが割れてた…梱包ひどすぎ。交換してほしい💢",
    "商品ページの写真と色が全然違う。説明と違うものが届いた、返品したい",
    "二重請求されてる！カードの明細に同じ金額が２回。返金しろ",
    "問い合わせても返事がない。サポートの対応最悪。二度と買わない",
    "ＫＭ－{n}の注文、キャンセルしたのに引き落とされた。どういうこと？",
    "お茶の缶がへこんでて中身がこぼれてた。初期不良では？😢",
]
QUESTIONS = [
    "窓口茶舗の急須って食洗機で洗えますか？",
    "ギフト包装ってお願いできるのかな？ 母の日に間に合う？",
    "このお茶、カフェインどれくらい入ってるんだろう",
]
PRAISE = [
    "窓口茶舗の玉露、香りが最高✨ リピート確定です🍵",
    "問い合わせたらすぐ丁寧に答えてくれた。神対応👏",
    "届いた湯呑み、写真より素敵でした！ありがとうございます😊",
    "ここのほうじ茶ほんとに美味しい。毎朝の楽しみ🙏",
]
NOISE = [
    "【ＰＲ】フォロー＆RTで抽選100名様にAmazonギフト券🎁 #プレゼント企画",
    "今日は雨。洗濯物が乾かない☔",
    "副業で月30万！詳しくはプロフのリンクから💰",
    "おはようございます☀ 今日も一日がんばろう",
]
KINDS = [("complaint", COMPLAINTS, 4), ("question", QUESTIONS, 2), ("praise", PRAISE, 2), ("noise", NOISE, 2)]
BASE_TIME = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def posts(count: int, seed: int = 19, start: dt.datetime = BASE_TIME) -> Iterator[dict[str, Any]]:
    """`count` posts in the generic shape, one every 2 minutes from `start`; a realistic mix."""
    rng = random.Random(seed)
    weights = [weight for _kind, _texts, weight in KINDS]
    for index in range(count):
        kind, texts, _weight = rng.choices(KINDS, weights=weights)[0]
        template = rng.choice(texts)
        text = template.format(n=rng.randint(3, 12) if "{n}日" in template else 100000 + index)
        if index % 7 == 0:
            text += "\n（追記）" + "、".join(["なお", "念のため"])
        handle = f"user_{rng.randint(1, 3000):04d}"
        yield {
            "platform": "X" if index % 10 else "Instagram",
            "id": f"{1860000000000000000 + index}",
            "author": f"@{handle}",
            "author_name": rng.choice(["山田 花子", "ｓａｔｏ＿ｔａｒｏ", "お茶好き🍵", "田中", "Ｋｅｎ"]),
            "text": text,
            "posted_at": (start + dt.timedelta(minutes=2 * index)).strftime("%Y-%m-%d %H:%M:%S"),
            "url": f"https://x.com/{handle}/status/{1860000000000000000 + index}" if index % 10 else
                   f"https://www.instagram.com/p/C{index:08d}/",
            "_kind": kind,
        }


HEADER = ["媒体", "投稿ID", "投稿者", "投稿者名", "本文", "投稿日時", "URL"]
KEYS = ["platform", "id", "author", "author_name", "text", "posted_at", "url"]


def csv_file(rows: list[dict[str, Any]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row.get(key, "") for key in KEYS])
    return out.getvalue().encode(encoding)


def json_file(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps([{key: row[key] for key in KEYS if key in row} for row in rows], ensure_ascii=False, indent=2).encode()


def x_api_page(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """X API v2 recent search as it answers with expansions=author_id."""
    users = {}
    data = []
    for number, row in enumerate(rows):
        handle = str(row["author"]).lstrip("@")
        users[handle] = {"id": str(2000 + number), "username": handle, "name": row["author_name"]}
        moment = dt.datetime.strptime(row["posted_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone(dt.timedelta(hours=9)))
        data.append({"id": row["id"], "text": row["text"], "author_id": users[handle]["id"],
                     "created_at": moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "edit_history_tweet_ids": [row["id"]]})
    return {"data": data, "includes": {"users": list(users.values())},
            "meta": {"newest_id": data[0]["id"] if data else None, "result_count": len(data)}}
