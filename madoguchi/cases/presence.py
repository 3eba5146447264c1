"""Who else has a case open, and who is typing a reply there, live (issue 22, collision guard).

One WebSocket per open case page (`/ws/cases/<id>/`), same-origin, behind the login session:
anyone who may open the case page (a signed-in, active staff member) may join its group. Nothing
is stored: presence lives in the channel layer's group `cases.presence.<id>`, so it works the
same with the in-memory layer (one process) and channels-redis (several).

Protocol (JSON with a `type`):
  client → typing{on} · ping
  server → here{channel,user_id,name,typing} · typing{channel,user_id,name,on} · left{channel}
A socket that joins announces itself to the group; each socket already there answers it
directly (so the newcomer learns who is present). `ping` (every 25 s from the page) repeats the
announcement, so a page whose process died without a `left` is dropped by the others after
PRESENCE_TTL_SECONDS (presence.js). Closing the socket tells the group at once.
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.db import transaction

from madoguchi.cases.models import Case, Interaction, InteractionKind

PRESENCE_TTL_SECONDS = 70  # the page forgets a viewer it has not heard from for this long


def group_name(case_id: int) -> str:
    return f"cases.presence.{case_id}"


def _case_exists(case_id: int) -> bool:
    return Case.objects.filter(pk=case_id).exists()


def on_interaction_added(sender: Any, interaction: Interaction, actor: Any = None, **kwargs: Any) -> None:
    """A reply a person sent: the case's open pages hear of it once it is committed."""
    if interaction.kind != InteractionKind.OUTBOUND or interaction.author_id is None:
        return
    event = {"type": "presence.replied", "id": interaction.pk, "user_id": interaction.author_id,
             "name": str(actor) if actor is not None and actor.pk == interaction.author_id else ""}

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            try:
                async_to_sync(layer.group_send)(group_name(interaction.case_id), event)
            except Exception:  # noqa: BLE001 - a page not told still holds a second reply (ReplyCollision)
                pass

    transaction.on_commit(send)


class CasePresenceConsumer(AsyncJsonWebsocketConsumer):
    group = ""
    typing = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        case_id = int(self.scope["url_route"]["kwargs"]["pk"])
        if not await database_sync_to_async(_case_exists)(case_id):
            await self.close(code=4404)
            return
        self.me = {"channel": self.channel_name, "user_id": user.pk, "name": str(user)}
        self.group = group_name(case_id)
        await self.accept()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._announce(answer=True)

    async def disconnect(self, code: int) -> None:
        if not self.group:
            return  # refused at connect: nothing joined
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.channel_layer.group_send(self.group, {"type": "presence.left", "channel": self.channel_name})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "message": "送信内容の形式が正しくありません。"})
            return
        if content.get("type") == "typing":
            on = bool(content.get("on"))
            if on != self.typing:
                self.typing = on
                await self.channel_layer.group_send(self.group, {"type": "presence.typing", "who": self._who()})
        elif content.get("type") == "ping":
            await self._announce(answer=False)

    def _who(self) -> dict[str, Any]:
        return {**self.me, "typing": self.typing}

    async def _announce(self, *, answer: bool) -> None:
        """Tell the group this page is here; with `answer`, each one there replies to it alone."""
        await self.channel_layer.group_send(self.group, {"type": "presence.here", "who": self._who(), "answer": answer})

    async def presence_here(self, event: dict[str, Any]) -> None:
        who = event["who"]
        if who["channel"] == self.channel_name:
            return
        await self.send_json({"type": "here", **who})
        if event.get("answer"):
            await self.channel_layer.send(who["channel"], {"type": "presence.here", "who": self._who(), "answer": False})

    async def presence_typing(self, event: dict[str, Any]) -> None:
        who = event["who"]
        if who["channel"] != self.channel_name:
            await self.send_json({"type": "typing", **{k: v for k, v in who.items() if k != "typing"}, "on": who["typing"]})

    async def presence_left(self, event: dict[str, Any]) -> None:
        if event["channel"] != self.channel_name:
            await self.send_json({"type": "left", "channel": event["channel"]})

    async def presence_replied(self, event: dict[str, Any]) -> None:
        """A person sent a reply on the case (cases/receivers): the page says so at once."""
        await self.send_json({"type": "replied", "user_id": event["user_id"], "name": event["name"], "id": event["id"]})
