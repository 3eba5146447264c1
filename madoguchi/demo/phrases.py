"""Fragments the demo stories are assembled from: greetings, dates, the voice of each channel."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from madoguchi.cases.models import Channel
from madoguchi.demo.catalogue import SHOP, X_HANDLE, Item
from madoguchi.shop.models import Order

WEEKDAYS = "月火水木金土日"
# Stands for the agent who writes the message; filled in when the timeline entry gets its author.
AGENT = "〔担当者〕"
CASUAL_CHANNELS = {Channel.X, Channel.LINE, Channel.CHAT}


def md(moment: dt.datetime | dt.date) -> str:
    """11月18日（水） in Japan time."""
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment).date()
    return f"{moment.month}月{moment.day}日（{WEEKDAYS[moment.weekday()]}）"


def relative_day(moment: dt.datetime, now: dt.datetime) -> str:
    """How a customer says when: 今日, 昨日, おととい, or the date."""
    days = (timezone.localtime(now).date() - timezone.localtime(moment).date()).days
    return {0: "今日", 1: "昨日", 2: "おととい"}.get(days, md(moment).split("（")[0])


@dataclass
class Ctx:
    """Everything a story may mention about its case."""

    rng: random.Random
    name: str  # the customer's full name
    family: str
    item: Item
    order: Order | None
    carrier: str  # 「ヤマト運輸」
    channel: str
    received_at: dt.datetime

    @property
    def casual(self) -> bool:
        return self.channel in CASUAL_CHANNELS

    def pick(self, *options: str) -> str:
        return self.rng.choice(options)

    @property
    def ordered(self) -> str:
        return relative_day(self.order.ordered_at, self.received_at) if self.order else "先日"

    @property
    def number(self) -> str:
        return self.order.number if self.order else ""

    @property
    def tracking(self) -> str:
        return self.order.tracking_number if self.order else ""


def customer_opening(c: Ctx) -> str:
    if c.channel == Channel.PHONE:
        return c.pick("", f"もしもし、{c.family}と申します。\n", f"{c.family}ですけど、", f"あの、{c.name}と申しますが、")
    if c.channel == Channel.X:
        return f"@{X_HANDLE} "
    if c.casual:
        return c.pick("", "すみません、", "こんにちは。", "お世話になってます。")
    return c.pick(
        f"お世話になっております。{c.name}と申します。\n",
        f"{SHOP}様\n\n{c.name}です。\n",
        f"突然のご連絡失礼いたします。{c.family}と申します。\n",
        f"いつも利用させていただいています。{c.family}です。\n",
        f"{c.name}です。先日注文した件で連絡しました。\n",
        "お問い合わせします。\n",
        "",
    )


def customer_closing(c: Ctx) -> str:
    if c.channel == Channel.PHONE:
        return c.pick("", "どうなっているんでしょうか。", "確認していただけますか。")
    if c.casual:
        return c.pick("", "", "よろしくお願いします。", "確認お願いします🙏")
    return c.pick("\nよろしくお願いいたします。", "\nお手数ですが、ご確認をお願いいたします。", "\nご返信お待ちしております。", "")


def feeling(c: Ctx, about_goods: bool = True) -> str:
    """What the customer adds about how they feel; empty more often than not."""
    if not about_goods:
        return c.pick("", "", "", "正直、不信感を持ってしまいました。", "早めにご対応いただけると助かります。",
                      "以前から何度も買っているお店なので残念です。")
    return c.pick(
        "", "", "",
        "楽しみにしていたので、正直がっかりしました。",
        "プレゼント用に買ったので困っています。",
        "以前から何度も買っているお店なので残念です。",
        "急ぎではありませんが、どうすればよいか教えてください。",
    )


def first_message(c: Ctx, polite: str, casual: str, about_goods: bool = True) -> str:
    """The customer's first message: opening, their account in their register, feeling, closing."""
    if c.casual:
        closing = customer_closing(c)
        return f"{customer_opening(c)}{casual}" + (f"\n{closing}" if closing else "")
    return f"{customer_opening(c)}{polite}{feeling(c, about_goods)}{customer_closing(c)}".strip()


def agent_message(c: Ctx, body: str, first: bool = False) -> str:
    """An agent's words in the voice of the channel: a letter by mail, short on LINE and X."""
    if c.channel == Channel.PHONE:
        return body
    if c.channel == Channel.X:
        return f"{c.name}様 {body}"
    if c.casual:
        hello = f"{c.name}様、{SHOP}の{AGENT}です。" if first else f"{c.family}様、"
        return f"{hello}{body}"
    opening = f"{c.name}様\n\n{SHOP} カスタマーサポートの{AGENT}です。\n"
    opening += c.pick("いつも当店をご利用いただき、誠にありがとうございます。\n", "ご連絡いただきありがとうございます。\n")
    return f"{opening}\n{body}\n\n何卒よろしくお願いいたします。\n\n――――――――\n{SHOP} カスタマーサポート {AGENT}\n平日 10:00〜18:00"


def phone_call(c: Ctx, summary: str, outgoing: bool) -> str:
    """A call logged by the agent: who called whom, then what was said."""
    head = c.pick("お客様へ折り返しのお電話。", "お客様へ架電。") if outgoing else c.pick("お客様より入電。", "お客様からお電話。")
    return f"{head}\n{summary}"


FOLLOWUP = [
    "その後、ご不便はございませんでしょうか。ほかにお困りのことがあれば、いつでもお知らせください。",
    "先日は貴重なご意見をありがとうございました。その後お変わりございませんでしょうか。",
    "念のため、その後のご様子を伺いたくご連絡いたしました。ご不明な点があればお気軽にお知らせください。",
]
THANKS = [
    "ご丁寧にありがとうございます。おかげさまで問題ありません。",
    "わざわざご連絡ありがとうございます。対応が早くて助かりました。また利用します。",
    "ありがとうございました。最初は腹が立ちましたが、丁寧に対応していただいたので、また買おうと思います。",
    "大丈夫です、ありがとうございました！",
]
CASUAL_THANKS = ["ありがとうございます！助かりました", "了解です、ありがとうございました🙇", "対応早くて助かりました。また買います"]


def followup(c: Ctx) -> str:
    return c.pick(*FOLLOWUP)


def thanks(c: Ctx) -> str:
    return c.pick(*(CASUAL_THANKS if c.casual else THANKS))


NUDGES = [
    "先日問い合わせた件、その後どうなっていますか？",
    "まだ返事をいただいていないのですが、確認していただけていますか。",
    "再度の連絡ですみません。いつ頃ご回答いただけますでしょうか。",
]


def nudge(c: Ctx) -> str:
    return c.pick(*NUDGES)
