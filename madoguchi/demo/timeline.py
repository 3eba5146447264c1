"""The conversation of one demo case, as beats in order, cut where the case's status says it stands."""

from __future__ import annotations

from dataclasses import dataclass

from madoguchi.cases.models import Channel, InteractionKind, Status
from madoguchi.demo import phrases
from madoguchi.demo.phrases import Ctx
from madoguchi.demo.story import Story

IN, OUT, NOTE = InteractionKind.INBOUND, InteractionKind.OUTBOUND, InteractionKind.NOTE
# Where the shop answers a contact that came in on a channel it cannot reply on.
REPLY_CHANNEL: dict[str, str] = {Channel.FORM: Channel.EMAIL, Channel.OTHER: Channel.PHONE}
GENERIC_ASK = "恐れ入りますが、ご注文番号とお届け先のお名前をお知らせいただけますでしょうか。"
GENERIC_ANSWER = "注文番号はメールに書いてあったものです。よろしくお願いします。"


@dataclass
class Beat:
    kind: str
    channel: str
    body: str
    agent: bool  # written by the handling agent (else by the customer)
    handover_point: bool = False  # a handover, if any, happens just before this beat
    soon: bool = False  # minutes after the previous beat (said in the same phone call)
    later: bool = False  # days after the previous beat (a follow-up)


class Conversation:
    def __init__(self, c: Ctx, story: Story) -> None:
        self.c, self.story = c, story
        self.out_channel = REPLY_CHANNEL.get(c.channel, c.channel)
        self.first_out = True
        self.beats: list[Beat] = []

    def customer(self, body: str, calls: bool = False) -> None:
        """The customer writes (or says) `body`: by phone in our call or calling us back; in a
        chat within minutes."""
        last = self.beats[-1] if self.beats else None
        answering = last is not None and last.kind == OUT and not calls
        if self.out_channel == Channel.PHONE:
            body = f"お客様：「{body}」" if answering else phrases.phone_call(self.c, f"「{body}」", outgoing=False)
        soon = answering and self.out_channel in (Channel.PHONE, Channel.CHAT)
        self.beats.append(Beat(IN, self.out_channel, body, False, soon=soon))

    def agent(self, body: str, handover_point: bool = False, later: bool = False) -> None:
        in_the_call = self.first_out and self.c.channel == Channel.PHONE
        if in_the_call:
            body = f"通話の中で次のようにご案内。\n{body}"
        elif self.out_channel == Channel.PHONE:
            body = phrases.phone_call(self.c, body, outgoing=True)
        else:
            body = phrases.agent_message(self.c, body, first=self.first_out)
        last = self.beats[-1] if self.beats else None
        chatting = self.c.channel == Channel.CHAT and (last is None or last.kind == IN) and not later
        self.first_out = False
        self.beats.append(Beat(OUT, self.out_channel, body, True, handover_point, soon=in_the_call or chatting, later=later))

    def note(self, body: str, handover_point: bool = False) -> None:
        self.beats.append(Beat(NOTE, self.c.channel, body, True, handover_point))


def conversation(c: Ctx, story: Story, status: str, due_text: str) -> list[Beat]:
    """Beats from the complaint (already the case's first entry) to where `status` stands."""
    talk = Conversation(c, story)
    if status == Status.NEW:
        if c.rng.random() < 0.25:
            talk.customer(phrases.nudge(c), calls=True)
        return talk.beats
    ask = story.ask or GENERIC_ASK
    if status == Status.OPEN:
        asked = c.rng.random() < 0.6
        talk.agent(f"{story.reply}\n{ask}" if asked else story.reply)
        if c.rng.random() < 0.5:
            talk.note(story.note, handover_point=True)
        if asked and c.rng.random() < 0.5:
            talk.customer(story.answer or GENERIC_ANSWER)  # answered: the agent's turn again
        return talk.beats
    talk.agent(f"{story.reply}\n{ask}")
    if status == Status.WAITING_CUSTOMER:
        if c.rng.random() < 0.4:
            talk.note("お客様に確認事項をお伝え済み。ご返答を待って次の対応を決める。", handover_point=True)
        return talk.beats
    talk.customer(story.answer or GENERIC_ANSWER)
    if status == Status.WAITING_DEPT:
        dept = story.dept or "物流部"
        talk.note(f"{dept}に確認を依頼：{story.dept_request or story.subject}", handover_point=True)
        talk.agent(f"ただいま担当部署に確認しております。{due_text}までにご連絡いたしますので、今しばらくお待ちください。")
        return talk.beats
    talk.note(story.note, handover_point=True)
    talk.agent(story.proposal)
    talk.customer(story.accept)
    if status == Status.CLOSED:
        talk.agent(phrases.followup(c), later=True)
        talk.customer(story.thanks or phrases.thanks(c))
    return talk.beats
