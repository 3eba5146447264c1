"""The complaint record (SPEC §1–4): cases, their timeline, promises, compensation, handovers.

Writes go through the do_* functions in cases/services.py, which keep the audit trail and
the optimistic-lock version right; views and jobs never save these models directly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.figures import yen


class Channel(models.TextChoices):
    EMAIL = "email", _("メール")
    PHONE = "phone", _("電話")
    CHAT = "chat", _("チャット")
    LINE = "line", _("LINE")
    X = "x", _("X")
    FORM = "form", _("問い合わせフォーム")
    OTHER = "other", _("その他")


class Status(models.TextChoices):
    NEW = "new", _("新規")
    OPEN = "open", _("対応中")
    WAITING_CUSTOMER = "waiting_customer", _("お客様の返答待ち")
    WAITING_DEPT = "waiting_dept", _("他部署の回答待ち")
    RESOLVED = "resolved", _("解決済み")
    CLOSED = "closed", _("完了")


# Statuses in which somebody still owes the customer something; the inbox queues show these.
ACTIVE_STATUSES = [Status.NEW, Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_DEPT]
ACTIVE = Q(status__in=ACTIVE_STATUSES)


class Priority(models.IntegerChoices):
    LOW = 1, _("低")
    NORMAL = 2, _("通常")
    HIGH = 3, _("高")
    URGENT = 4, _("緊急")


class Category(models.Model):
    """Editable list of complaint categories; `code` is stable for reports and rules."""

    code = models.SlugField(_("コード"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    position = models.PositiveIntegerField(_("並び順"), default=0)
    active = models.BooleanField(_("使用中"), default=True)

    class Meta:
        verbose_name = _("分類")
        verbose_name_plural = _("分類")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    subject = models.CharField(_("件名"), max_length=200)
    channel = models.CharField(_("最初の窓口"), max_length=10, choices=Channel.choices)
    category = models.ForeignKey(Category, verbose_name=_("分類"), on_delete=models.PROTECT, related_name="cases")
    priority = models.PositiveSmallIntegerField(_("優先度"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("状態"), max_length=20, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("担当者"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="assigned_cases",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("チーム"), null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("お客様"), on_delete=models.PROTECT, related_name="cases"
    )
    order = models.ForeignKey(
        "shop.Order", verbose_name=_("注文"), null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    product = models.ForeignKey(
        "shop.Product", verbose_name=_("商品"), null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    passage = models.ForeignKey(
        "shop.Passage", verbose_name=_("誤解された説明文"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="cases",
    )
    received_at = models.DateTimeField(_("受付日時"))
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    resolved_at = models.DateTimeField(_("解決日時"), null=True, blank=True)

    # The seed 000 record, in the customer's and the agent's words.
    complaint = models.TextField(_("クレームの内容"), blank=True)
    solution = models.TextField(_("解決策・提案の内容"), blank=True)
    landing_point = models.TextField(_("着地点"), blank=True)

    # Facts gathered at first contact (SPEC §2), kept even when they match no order on file.
    fact_order_number = models.CharField(_("お客様が伝えた注文番号"), max_length=50, blank=True)
    fact_product = models.CharField(_("お客様が伝えた商品"), max_length=200, blank=True)
    fact_what_happened = models.TextField(_("何が起きたか"), blank=True)
    fact_when = models.CharField(_("いつ起きたか"), max_length=100, blank=True)
    # First-contact checklist: {item code: True}; items are listed in cases/steps.py.
    checklist = models.JSONField(_("初動チェックリスト"), default=dict, blank=True)

    # Optimistic lock: every write bumps it, a form posted with an older one is refused.
    version = models.PositiveIntegerField(default=1)
    # The customer wrote after the last reply from staff and the assignee has not opened the
    # case since: the inbox marks the row 「新着返信」 (cases/attention.py). A column, not a
    # per-row query, so an inbox page still costs the same at any size; no queue filters by it,
    # so it has no index.
    unread_by_assignee = models.BooleanField(_("新着返信あり"), default=False)
    # Set when this case was merged into another (do_merge_cases): the case is closed and its
    # channels (a mail thread, a LINE chat) lead to that case instead. Cleared on undo.
    merged_into = models.ForeignKey(
        "self", verbose_name=_("統合先の案件"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="merged_cases",
    )

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        # One index per inbox queue, each ending in the keyset sort (received_at, id), so a
        # page costs the same at case 10 and case 1,000,000 (see cases/queues.py).
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="case_received"),
            models.Index(fields=["assignee", "-received_at", "-id"], name="case_active_assignee", condition=ACTIVE),
            models.Index(fields=["team", "-received_at", "-id"], name="case_active_team", condition=ACTIVE),
            models.Index(
                fields=["-received_at", "-id"], name="case_unassigned",
                condition=ACTIVE & Q(assignee__isnull=True),
            ),
            models.Index(fields=["status", "-received_at", "-id"], name="case_status"),
            models.Index(
                fields=["-resolved_at", "-id"], name="case_resolved", condition=Q(status="resolved")
            ),
            models.Index(fields=["customer", "-received_at"], name="case_customer"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> str:
        return f"#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class InteractionKind(models.TextChoices):
    INBOUND = "inbound", _("お客様から")
    OUTBOUND = "outbound", _("お客様へ")
    NOTE = "note", _("社内メモ")
    SYSTEM = "system", _("記録")


class Interaction(models.Model):
    """One entry of the timeline. `body` is what was said, verbatim, never edited afterwards."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("種類"), max_length=10, choices=InteractionKind.choices)
    channel = models.CharField(_("窓口"), max_length=10, choices=Channel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("担当者"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="interactions",
    )
    occurred_at = models.DateTimeField(_("日時"))
    body = models.TextField(_("内容"))
    # Where the channel app keeps the original (raw mail, chat message id, …), for dedupe.
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("やりとり")
        verbose_name_plural = _("やりとり")
        indexes = [models.Index(fields=["case", "occurred_at", "id"], name="interaction_timeline")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class CommitmentState(models.TextChoices):
    OPEN = "open", _("未完了")
    KEPT = "kept", _("守った")
    BROKEN = "broken", _("守れなかった")


class Commitment(models.Model):
    """A promise made to the customer (着地点), tracked until kept (SPEC §1, §4)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="commitments")
    description = models.CharField(_("約束した内容"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("担当者"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="commitments",
    )
    department = models.CharField(_("担当部署"), max_length=100, blank=True)
    due_at = models.DateTimeField(_("期限"))
    state = models.CharField(_("状態"), max_length=10, choices=CommitmentState.choices, default=CommitmentState.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(_("リーダーへ通知した日時"), null=True, blank=True)
    # A promise within the shop (「倉庫に在庫を確認する」): never on the customer's status page,
    # and no late notice goes to the customer for it (madoguchi.progress).
    internal = models.BooleanField(_("社内の約束（お客様には見せない）"), default=False)

    class Meta:
        verbose_name = _("約束")
        verbose_name_plural = _("約束")
        indexes = [
            models.Index(fields=["due_at", "id"], name="commitment_open_due", condition=Q(state="open")),
            # A person's open promises (progress.services.drafts_of, on every inbox page).
            models.Index(fields=["owner", "id"], name="commitment_open_owner", condition=Q(state="open")),
        ]

    def __str__(self) -> str:
        return self.description


class CompensationKind(models.TextChoices):
    REFUND = "refund", _("返金")
    COUPON = "coupon", _("クーポン")
    DISCOUNT = "discount", _("割引")
    REPLACEMENT = "replacement", _("交換品の送付")
    FREE_PERIOD = "free_period", _("無料期間")


class CompensationState(models.TextChoices):
    PENDING = "pending", _("承認待ち")
    GRANTED = "granted", _("付与済み")
    REJECTED = "rejected", _("却下")


class Compensation(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="compensations")
    kind = models.CharField(_("種類"), max_length=15, choices=CompensationKind.choices)
    amount_yen = models.PositiveIntegerField(_("金額（円）"))
    reason = models.CharField(_("理由"), max_length=300)
    state = models.CharField(_("状態"), max_length=10, choices=CompensationState.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申請者"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("承認者"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    decision_note = models.CharField(_("判断のメモ"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    # Why a request just made waits for approval (set by do_request_compensation, not stored).
    hold_reason: str = ""

    class Meta:
        verbose_name = _("補償")
        verbose_name_plural = _("補償")
        indexes = [models.Index(fields=["created_at"], name="compensation_pending", condition=Q(state="pending"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {yen(self.amount_yen)}"


class Handover(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("引き継ぎメモ"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("引き継ぎ")
        verbose_name_plural = _("引き継ぎ")

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user or self.to_team}"


class AuditEvent(models.Model):
    """Who changed what on a case, and when. `changes` is {field: [old, new]}."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("変更履歴")
        verbose_name_plural = _("変更履歴")
        indexes = [models.Index(fields=["case", "at"], name="audit_case")]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"


class MergeRecord(models.Model):
    """One merge of a case (`source`) into another of the same customer (`target`), with what it
    moved, so 「統合を取り消す」 puts back exactly that (cases.services.do_undo_merge).

    `moved` is {"app_label.Model": [pk, …]} of the rows whose case changed from source to target;
    `fields` is {field: [target's value before, after]} of the target's own fields the merge
    filled (an order the target did not have); `source_state` is the source's status and
    resolved time before it was closed."""

    source = models.ForeignKey(Case, verbose_name=_("統合元の案件"), on_delete=models.CASCADE, related_name="merges_out")
    target = models.ForeignKey(Case, verbose_name=_("統合先の案件"), on_delete=models.CASCADE, related_name="merges_in")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("統合した人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("統合日時"), auto_now_add=True)
    moved = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(default=dict, blank=True)
    source_state = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(_("取り消した日時"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("取り消した人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = _("案件の統合")
        verbose_name_plural = _("案件の統合")
        indexes = [models.Index(fields=["target", "-at"], name="merge_target", condition=Q(undone_at__isnull=True))]

    def __str__(self) -> str:
        return f"#{self.source_id} → #{self.target_id}"


class CaseLink(models.Model):
    """Two related cases (the same incident: one delivery delay, many customers), linked without
    merging. Symmetric: stored once with the lower id first, shown on both case pages."""

    case_a = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_a")
    case_b = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_b")
    note = models.CharField(_("メモ"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("関連する案件")
        verbose_name_plural = _("関連する案件")
        constraints = [
            models.UniqueConstraint(fields=["case_a", "case_b"], name="case_link_unique"),
            models.CheckConstraint(condition=Q(case_a__lt=models.F("case_b")), name="case_link_ordered"),
        ]
        indexes = [models.Index(fields=["case_b"], name="case_link_b")]

    def __str__(self) -> str:
        return f"#{self.case_a_id} ↔ #{self.case_b_id}"


# ---------------------------------------------------------------------------------------------
# Inbox tools (issue 22 item 3): tags, the shop's own fields, saved inbox views.
# Written through madoguchi/cases/labels.py and saved_views.py; read by the inbox with a constant
# number of queries per page (one for the tags of the rows on it).


class TagColour(models.TextChoices):
    """The fixed palette a tag's colour is chosen from (CSS classes tag-<value>)."""

    GRAY = "gray", _("グレー")
    RED = "red", _("赤")
    ORANGE = "orange", _("オレンジ")
    YELLOW = "yellow", _("黄")
    GREEN = "green", _("緑")
    BLUE = "blue", _("青")
    PURPLE = "purple", _("紫")
    PINK = "pink", _("ピンク")


class Tag(models.Model):
    """A label the shop puts on cases (「返品希望」「VIP」); made by an admin or a team lead."""

    name = models.CharField(_("タグ名"), max_length=40, unique=True)
    colour = models.CharField(_("色"), max_length=10, choices=TagColour.choices, default=TagColour.GRAY)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("タグ")
        verbose_name_plural = _("タグ")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseTag(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="case_tags")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("案件のタグ")
        verbose_name_plural = _("案件のタグ")
        # (case, tag): the tags of an inbox page's rows; (tag, case): the inbox filtered by a tag.
        constraints = [models.UniqueConstraint(fields=["case", "tag"], name="case_tag_unique")]
        indexes = [models.Index(fields=["tag", "case"], name="case_tag_by_tag")]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.tag_id}"


class FieldKind(models.TextChoices):
    TEXT = "text", _("文字")
    NUMBER = "number", _("数値")
    DATE = "date", _("日付")
    CHOICE = "choice", _("選択肢")


class CustomField(models.Model):
    """A field of the shop's own on every case (「返品伝票番号」「購入店舗」), defined by an admin."""

    label = models.CharField(_("項目名"), max_length=60, unique=True)
    kind = models.CharField(_("種類"), max_length=10, choices=FieldKind.choices)
    # The options of a choice field, in order (strings); empty for the other kinds.
    choices = models.JSONField(_("選択肢"), default=list, blank=True)
    position = models.PositiveIntegerField(_("並び順"), default=0)
    active = models.BooleanField(_("使用中"), default=True)

    class Meta:
        verbose_name = _("独自項目")
        verbose_name_plural = _("独自項目")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class CustomFieldValue(models.Model):
    """A case's value of one custom field: `text` for text and choice, `number`, or `date`.
    No row when the field is empty."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="field_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    text = models.CharField(max_length=500, blank=True)
    number = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("独自項目の値")
        verbose_name_plural = _("独自項目の値")
        constraints = [models.UniqueConstraint(fields=["case", "field"], name="field_value_unique")]
        # The inbox's filters: a choice equals, a number or date range (field first, then value).
        indexes = [
            models.Index(fields=["field", "text", "case"], name="field_value_text"),
            models.Index(fields=["field", "number", "case"], name="field_value_number"),
            models.Index(fields=["field", "date", "case"], name="field_value_date"),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.field_id}"


class SavedView(models.Model):
    """The inbox's queue, filters and sort saved under a name: the owner's, or shared with a team
    (`team` set) so every member sees it in the inbox's side bar."""

    name = models.CharField(_("名前"), max_length=60)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("作成者"), on_delete=models.CASCADE,
                              related_name="saved_views")
    team = models.ForeignKey("accounts.Team", verbose_name=_("共有するチーム"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="saved_views")
    query = models.CharField(max_length=2000)  # the inbox's query string, cleaned (saved_views.clean_query)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("保存したビュー")
        verbose_name_plural = _("保存したビュー")
        indexes = [
            models.Index(fields=["owner", "name"], name="saved_view_owner"),
            models.Index(fields=["team", "name"], name="saved_view_team", condition=Q(team__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name
