"""What the LINE app adds under its entries on the case page (cases.page.TIMELINE_EXTRAS):
the files a customer sent, an unsent mark, and each reply's delivery state. Two queries per
page, whatever the number of entries."""

from __future__ import annotations

from typing import Any

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from madoguchi.line.models import LineOutbound, LineRawEvent, OutboundState


def line_parts(case: Any, rows: list[Any]) -> dict[int, str]:
    pks = [row.pk for row in rows]
    parts: dict[int, str] = {}
    events = (LineRawEvent.objects.filter(interaction_id__in=pks).select_related("attachment")
              .only("interaction_id", "unsent_at", "event_type", "attachment__id", "attachment__filename",
                    "attachment__size", "attachment__error", "attachment__file"))
    for event in events:
        html = ""
        attachment = getattr(event, "attachment", None)
        if attachment is not None:
            if attachment.error or not attachment.file:
                html += format_html('<div class="line-attachment">📎 {} <small>{}</small></div>',
                                    attachment.filename, attachment.error)
            else:
                html += format_html('<div class="line-attachment">📎 <a href="{}">{}</a> <small>{}</small></div>',
                                    reverse("line:attachment", args=[attachment.pk]), attachment.filename,
                                    filesizeformat(attachment.size))
        if event.unsent_at is not None:
            html += format_html('<div class="line-unsent" data-testid="line-unsent"><strong>{}</strong> <small>{}</small></div>',
                                _("お客様が送信を取り消しました"),
                                timezone.localtime(event.unsent_at).strftime("%m/%d %H:%M"))
        if html and event.interaction_id is not None:
            parts[event.interaction_id] = html
    for out in LineOutbound.objects.filter(interaction_id__in=pks):
        how = {"reply": _("応答メッセージ"), "push": _("プッシュメッセージ")}.get(out.method, "")
        when = timezone.localtime(out.sent_at).strftime("%m/%d %H:%M") if out.sent_at else ""
        html = format_html('<small class="line-delivery d-{}" data-testid="line-delivery">LINE {} {} {}</small>',
                           out.state, out.get_state_display(), how, when)
        if out.quick_replies:
            html += format_html('<div class="line-quick-replies" data-testid="line-quick-replies"><small>{} {}</small></div>',
                                _("クイックリプライ:"), "｜".join(out.quick_replies))
        if out.state == OutboundState.FAILED:
            html += format_html('<div class="line-error"><small>{}</small> <button hx-post="{}">{}</button></div>',
                                out.last_error, reverse("line:retry", args=[out.pk]), _("再送する"))
        elif out.state == OutboundState.PENDING and out.last_error:
            html += format_html('<div class="line-error"><small>{}</small></div>', out.last_error)
        parts[out.interaction_id] = html
    return parts
