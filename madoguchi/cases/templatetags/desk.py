from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.simple_tag
def inbox_rows(rows: list[Any], last_cells: dict[int, str] | None = None) -> str:
    """All `<tr>`s of an inbox page in one call: each row's cells are already escaped HTML
    (views.InboxRow.cells); `last_cells` fills the last column (the SLA timer) by case id."""
    last_cells = last_cells or {}
    return mark_safe("".join(  # noqa: S308 - cells and timers are built with format_html
        f'<tr class="prio-{int(row.priority)}">{row.cells}<td class="nowrap">{last_cells.get(row.pk, "")}</td></tr>\n'
        for row in rows
    ))


AUDIT_LABELS = {
    "created": _("案件を登録"),
    "updated": _("記録を更新"),
    "status_changed": _("状態を変更"),
    "handed_over": _("引き継ぎ"),
    "taken": _("自分が担当"),
    "assigned": _("最初の返信で担当に"),
    "commitment_added": _("約束を登録"),
    "commitment_closed": _("約束を完了"),
    "commitment_escalated": _("期限超過をリーダーに通知"),
    "compensation_requested": _("補償を申請"),
    "compensation_decided": _("補償を判断"),
    "same_person_merged": _("ご本人と確認して既存のお客様に統合"),
    "same_person_dismissed": _("既存のお客様とは別の方と判断"),
    "customer_merged": _("お客様の記録を統合"),
    "customer_name_confirmed": _("お客様のお名前を確認"),
    "identity_added": _("お客様の連絡先を追加"),
    "identity_claimed": _("別のお客様の連絡先を追加（本人確認前）"),
    "customer_flag_cleared": _("要注意の記録を解除"),
    "personal_data_erased": _("お客様の個人データを消去"),
    "merged_into": _("別の案件に統合"),
    "merged_from": _("別の案件を統合"),
    "merge_undone": _("案件の統合を取り消し"),
    "linked": _("関連する案件をリンク"),
    "unlinked": _("関連する案件のリンクを外す"),
    "tag_added": _("タグを追加"),
    "tag_removed": _("タグを外す"),
    "field_set": _("独自項目を変更"),
}


@register.filter
def audit_label(action: str) -> str:
    return str(AUDIT_LABELS.get(action, action))


@register.filter
def due_label(due_at: Any) -> str:
    """「期限切れ」「本日期限」「明日期限」 for a promise's due time, in the shop's time zone."""
    if due_at is None:
        return ""
    now = timezone.localtime()
    return due_label_on(timezone.localtime(due_at), now, now.date())


def due_label_on(due: dt.datetime, now: dt.datetime, today: dt.date) -> str:
    """due_label for a due time already in the shop's zone, given now and today there."""
    if due < now:
        return str(_("期限切れ"))
    if due.date() == today:
        return str(_("本日期限"))
    if due.date() == today + dt.timedelta(days=1):
        return str(_("明日期限"))
    return ""
