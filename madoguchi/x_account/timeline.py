"""What the X app adds under its entries on the case page (cases.page.TIMELINE_EXTRAS): where a
customer's post was (a public post, with its link, or a DM) and each reply's route and delivery
state, with 再送 / DMで送る. Two queries per page, whatever the number of entries."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from madoguchi.x_account.models import ItemKind, OutboundState, Route, XOutbound, XRawItem


def post_url(username: str, post_id: str) -> str:
    return f"https://x.com/{username or 'i/web'}/status/{post_id}"


def x_parts(case: Any, rows: list[Any]) -> dict[int, str]:
    pks = [row.pk for row in rows]
    parts: dict[int, str] = {}
    for item in XRawItem.objects.filter(interaction_id__in=pks).only("interaction_id", "kind", "item_id", "raw"):
        if item.interaction_id is None:
            continue
        author = json.loads(item.raw).get("author") or {}
        handle = str(author.get("username") or "")
        if item.kind == ItemKind.DM:
            parts[item.interaction_id] = format_html('<small class="x-where" data-testid="x-where">{} {}</small>',
                                                     _("XのDM"), f"@{handle}" if handle else "")
        else:
            parts[item.interaction_id] = format_html(
                '<small class="x-where" data-testid="x-where">{} <a href="{}" rel="noopener noreferrer" target="_blank">{}</a></small>',
                _("Xの公開の投稿"), post_url(handle, item.item_id), f"@{handle}" if handle else _("投稿を開く"))
    for out in XOutbound.objects.filter(interaction_id__in=pks):
        route = _("公開リプライ") if out.route == Route.PUBLIC else _("DM")
        when = timezone.localtime(out.sent_at).strftime("%m/%d %H:%M") if out.sent_at else ""
        html = format_html('<small class="x-delivery d-{}" data-testid="x-delivery">X {} {} {}</small>',
                           out.state, route, out.get_state_display(), when)
        if out.state == OutboundState.SENT and out.route == Route.PUBLIC and out.posted_id:
            html += format_html(' <small><a href="{}" rel="noopener noreferrer" target="_blank">{}</a></small>',
                                post_url("", out.posted_id), _("投稿を開く"))
        if out.state == OutboundState.HELD:
            html += format_html('<div class="x-error" role="alert"><small>{}</small> <button hx-post="{}" data-testid="x-send-dm">{}</button></div>',
                                out.last_error, reverse("x_account:send_by_dm", args=[out.pk]), _("DMで送る"))
        elif out.state == OutboundState.FAILED:
            html += format_html('<div class="x-error"><small>{}</small> <button hx-post="{}">{}</button>{}</div>',
                                out.last_error, reverse("x_account:retry", args=[out.pk]), _("再送する"),
                                format_html(' <button hx-post="{}">{}</button>', reverse("x_account:send_by_dm", args=[out.pk]),
                                            _("DMで送る")) if out.route == Route.PUBLIC else "")
        elif out.last_error:
            html += format_html('<div class="x-error"><small>{}</small></div>', out.last_error)
        parts[out.interaction_id] = html
    return parts
