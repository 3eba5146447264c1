"""Reactions to case events: a reply written on a chat case's page reaches the widget."""

from __future__ import annotations

from typing import Any

from madoguchi.cases.models import Channel, Interaction, InteractionKind
from madoguchi.chat import events, services
from madoguchi.chat.models import ChatMessage, ChatSession, Sender, SessionState


def deliver_composer_reply(sender: Any, interaction: Interaction, actor: Any, **kwargs: Any) -> None:
    # Chat's own messages carry their client id in external_id and are delivered already.
    if interaction.kind != InteractionKind.OUTBOUND or interaction.channel != Channel.CHAT or interaction.external_id:
        return
    session = ChatSession.objects.filter(case_id=interaction.case_id).first()
    if session is None or session.state == SessionState.ENDED:
        return
    message = ChatMessage.objects.create(
        session=session, client_id=f"case-{interaction.pk}", sender=Sender.AGENT, author=interaction.author,
        text=interaction.body,
    )
    if interaction.author_id is not None:  # the desk's automatic answers are nobody's reply
        ChatSession.objects.filter(pk=session.pk, first_agent_reply_at__isnull=True).update(first_agent_reply_at=message.created_at)
    events.publish_session(session.pk, "message", message=services.message_payload(message))


def reply_channel(case: Any) -> str | None:
    """A reply on a web-form case, or on a chat the visitor has left, goes by e-mail."""
    if case.channel == Channel.FORM:
        return Channel.EMAIL
    if case.channel != Channel.CHAT:
        return None
    session = ChatSession.objects.filter(case=case).only("state").first()
    return Channel.EMAIL if session is None or session.state == SessionState.ENDED else None


def reaches(case: Any) -> bool:
    """An automatic message on the chat reaches the visitor while the chat is open."""
    return ChatSession.objects.filter(case=case).exclude(state=SessionState.ENDED).exists()
