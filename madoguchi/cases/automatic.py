"""Messages the desk sends by itself (the survey invitation, the after-hours answer): by the
channel that can still reach the customer, or, when none can, a record on the case saying so.

Such a message has no author (actor None), so it changes no status and ticks no step (see
services.status_updates, steps.CaseFacts). The channel is the one a reply would take
(services.reply_channel: a chat the visitor has left, a web form → e-mail), if it reaches the
customer now; else e-mail, if the customer has an address; else none. Channel apps say in
their AppConfig.ready() whether their channel reaches a case's customer (`REACHES`): chat
while the chat is open, mail when the customer has an address to write to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.cases.services import do_add_interaction, finished_body, reply_channel

# channel → whether an automatic message on it reaches this case's customer now.
REACHES: dict[str, Callable[[Case], bool]] = {}


def automatic_channel(case: Case) -> str | None:
    """The channel an automatic message on the case goes by now, or None if none reaches."""
    for channel in dict.fromkeys([reply_channel(case), Channel.EMAIL]):
        reaches = REACHES.get(channel)
        if reaches is not None and reaches(case):
            return channel
    return None


def not_deliverable_text(case: Case, what: str, body: str) -> str:
    """The record the agent reads on the timeline, with the message itself, so they can pass
    it on some other way (a call) if they wish."""
    if case.channel == Channel.CHAT:
        why = "チャットはすでに終了しており、メールアドレスも伺っていません。"
    elif case.channel == Channel.PHONE:
        why = "お電話でのお問い合わせで、メールアドレスを伺っていません。"
    else:
        why = "お送りできるメールアドレスがありません。"
    return (f"お客様に届ける手段がないため、{what}を送れませんでした（{why}）。\n"
            f"お電話などでお伝えする場合は、以下の内容をお使いください。\n\n{body}")


def do_send_automatic(case: Case, *, body: str, what: str, occurred_at: dt.datetime | None = None) -> Interaction | None:
    """Send `body` to the customer by the channel that reaches them (the channel app delivers
    it on interaction_added, as any reply), and return it; or, when no channel reaches them,
    record on the case that `what` (e.g. 「満足度アンケート」) could not be sent, and return None."""
    channel = automatic_channel(case)
    if channel is None:
        do_add_interaction(case, actor=None, kind=InteractionKind.SYSTEM, channel=case.channel,
                           body=not_deliverable_text(case, what, body), occurred_at=occurred_at)
        return None
    return do_add_interaction(case, actor=None, kind=InteractionKind.OUTBOUND, channel=channel,
                              body=finished_body(case, None, channel, body), occurred_at=occurred_at)
