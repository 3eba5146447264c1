from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from madoguchi.cases.page import may_have
from madoguchi.progress import services
from madoguchi.progress.forms import LateNoticeForm
from madoguchi.progress.models import LateNotice, NoticeState

register = template.Library()


def notice_forms(drafts: list[LateNotice]) -> list[tuple[LateNotice, LateNoticeForm]]:
    return [(notice, LateNoticeForm(prefix=f"ln{notice.pk}", initial={
        "body": notice.body,
        "new_due_at": timezone.localtime(notice.new_due_at).replace(second=0, microsecond=0) if notice.new_due_at else None,
    })) for notice in drafts]


@register.inclusion_tag("progress/_case_panel.html", takes_context=True)
def case_progress(context: Any, case: Any) -> dict[str, Any]:
    """The case page's panel: the customer's link and the notices waiting (a query each, none
    for what the page's case query found there is none of: cases.page.may_have)."""
    user = context["request"].user
    link = services.live_link(case) if may_have(case, "progress_link") else None
    drafts = list(LateNotice.objects.filter(case=case, state=NoticeState.DRAFT).select_related("commitment")
                  .order_by("commitment__due_at", "id")) if may_have(case, "progress_notices") else []
    return {
        "case": case, "link": link, "url": services.url_for(link) if link else "",
        "may_withdraw": services.may_withdraw_links(user, case),
        "notices": notice_forms(drafts), "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("progress/_inbox_notices.html", takes_context=True)
def inbox_notices(context: Any) -> dict[str, Any]:
    user = context["request"].user
    counted = context.get("inbox_counts", {}).get("late_notices")  # the inbox read it with its badges
    if counted is not None:
        return {"count": counted}
    return {"count": services.count_drafts_for(user) if user.is_authenticated else 0}
