from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def yen(value: int | None) -> str:
    return f"¥{value or 0:,}"


AUDIT_LABELS = {
    "created": _("案件を登録"),
    "updated": _("記録を更新"),
    "status_changed": _("状態を変更"),
    "handed_over": _("引き継ぎ"),
    "commitment_added": _("約束を登録"),
    "commitment_closed": _("約束を完了"),
    "commitment_escalated": _("期限超過をリーダーに通知"),
    "compensation_requested": _("補償を申請"),
    "compensation_decided": _("補償を判断"),
}


@register.filter
def audit_label(action: str) -> str:
    return str(AUDIT_LABELS.get(action, action))
