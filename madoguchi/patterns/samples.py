"""Realistic Japanese complaints with a known topic, for the tests, the demo data and the
benchmark's generator: within one key (a carrier, a product, a passage) the words differ by
what went wrong, as customers write it (polite mail, casual chat, social media)."""

from __future__ import annotations

import random
from dataclasses import dataclass

# topic → (category code, wordings). {product} and {carrier} are filled in; {days} a number.
TOPICS: dict[str, tuple[str, list[str]]] = {
    "late": ("delivery", [
        "{days}日前に注文した{product}がまだ届きません。到着予定日はとっくに過ぎています。",
        "到着予定日を{days}日過ぎても{product}が届かないのですが、いつ届きますか。",
        "{carrier}の追跡を見ても配送中のまま動きません。予定日を過ぎても届いていません。",
        "まだ届かないんだけど？予定日過ぎてるよね。いつ届くの",
        "予定日になっても荷物が届きません。配送状況を確認していただけますか。",
        "注文から{days}日、まだ届かない。追跡番号も反映されないし遅すぎる",
        "お届け予定日を過ぎておりますが、まだ商品が到着しておりません。至急ご確認ください。",
    ]),
    "wet": ("delivery", [
        "置き配を指定していないのに玄関前に置かれていて、雨で箱がびしょ濡れでした。",
        "{carrier}さんが雨の中で置き配したせいで、段ボールが濡れて中の{product}も濡れていました。",
        "置き配で荷物が雨ざらしになっていました。濡れて使えません。",
        "雨なのに置き配されてて箱びしょびしょ…中身まで濡れてた",
        "玄関先に置き配された荷物が雨に濡れ、説明書も濡れて読めなくなっていました。",
        "勝手に置き配されて雨で濡れてたんですけど。{carrier}ひどくない？",
    ]),
    "crushed": ("delivery", [
        "届いた箱が潰れていて、中の{product}が割れていました。配送中の扱いが雑だと思います。",
        "段ボールがぐちゃぐちゃに潰れた状態で届きました。配送中に落とされたのでは。",
        "外箱がへこんで潰れていて、中身の{product}にヒビが入っていました。",
        "箱潰れてて中身割れてた。{carrier}の扱い雑すぎ",
        "配送の箱が大きく潰れており、緩衝材もずれて{product}が破損していました。",
        "荷物の箱が潰れて届きました。{carrier}の配送中に強くぶつけられたようです。",
    ]),
    "absent": ("delivery", [
        "ずっと家にいたのに不在票が入っていました。インターホンも鳴らされていません。",
        "在宅していたのに不在票だけ入れて持ち帰られました。チャイムも鳴っていません。",
        "{carrier}のドライバーが呼び鈴も押さずに不在票を入れていった。家にいたのに",
        "家にいたのに不在扱いにされて再配達になりました。インターホンは鳴りませんでした。",
        "不在票が入っていましたが、その時間は在宅しておりました。チャイムを鳴らしていないと思います。",
        "インターホン鳴ってないのに不在票。在宅だったのに意味わからん",
    ]),
    "broken": ("defect", [
        "届いた{product}の電源が入りません。充電しても全く反応しません。",
        "{product}のスイッチを押しても電源が入らず、初期不良だと思います。",
        "電源入らないんだけど。新品なのに初期不良？",
        "{product}が起動しません。充電ランプもつかず、電源が入らない状態です。",
        "使い始めて二日で電源が入らなくなりました。不良品ではないでしょうか。",
    ]),
    "smell": ("defect", [
        "{product}から強い薬品のような臭いがして使えません。",
        "開封したら{product}がすごく臭いです。ゴムのような異臭がします。",
        "変な臭いがする。洗っても臭いが取れない",
        "{product}の異臭がひどく、部屋中に臭いが広がっています。",
        "薬品臭がきつくて、洗っても臭いが消えません。",
    ]),
    "microwave": ("description", [
        "商品ページに電子レンジ対応と書いてあったのに、{product}をレンジで温めたら割れました。",
        "レンジ可と書いてあったので電子レンジに入れたら、{product}にヒビが入りました。",
        "電子レンジOKって書いてあったのにレンジで使ったら割れたんだけど",
        "説明には電子レンジで使えるとありましたが、温めたところ取っ手が熱くなり割れました。",
        "電子レンジ対応の表示を見て購入しましたが、レンジで加熱したら破損しました。",
    ]),
    "size": ("description", [
        "商品ページの寸法より{product}がかなり小さいです。記載のサイズと違います。",
        "記載されているサイズより一回り小さく、思っていた大きさと違いました。",
        "サイズ表記と実物の大きさが全然違う。小さすぎる",
        "ページに書かれた寸法と実際のサイズが異なります。測ったら3センチも小さいです。",
        "写真と説明のサイズを見て買ったのに、届いたものは小さくて入りませんでした。",
    ]),
}
CARRIER_WORDS = {"yamato": "ヤマト", "sagawa": "佐川", "japanpost": "ゆうパック", "seino": "西濃", "fukuyama": "福山通運"}
OPENERS = ["", "", "お世話になっております。", "すみません、", "いつもお世話になっております。山田です。", "【至急】"]
CLOSERS = ["", "", "ご対応をお願いいたします。", "どうなっているんですか。", "返金か交換をお願いします。", "早めに連絡ください。"]


@dataclass(frozen=True)
class Complaint:
    topic: str
    category: str
    text: str


def complaint(topic: str, rng: random.Random, product: str = "マグカップ", carrier: str = "yamato") -> Complaint:
    category, wordings = TOPICS[topic]
    body = rng.choice(wordings).format(product=product, carrier=CARRIER_WORDS.get(carrier, "配送業者"),
                                       days=rng.choice(["3", "5", "一週間", "10"]))
    return Complaint(topic, category, f"{rng.choice(OPENERS)}{body}{rng.choice(CLOSERS)}")


def complaints(topics: list[str], each: int, seed: int = 7, **about: str) -> list[Complaint]:
    """`each` complaints of every topic, shuffled (the same on every machine)."""
    rng = random.Random(seed)
    found = [complaint(topic, rng, **about) for topic in topics for _i in range(each)]
    rng.shuffle(found)
    return found
