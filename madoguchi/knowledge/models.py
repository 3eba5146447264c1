"""Knowledge base (manual and FAQ), reply templates, handling rules (顧客対応ルール), the
search index, and after-hours answers. Writes go through knowledge/services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Status

# The statuses a macro may set: the case desk's own list but 新規 (a reply was just sent).
MACRO_STATUSES = [(value, label) for value, label in Status.choices if value != Status.NEW]


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("社内マニュアル")
    PUBLIC = "public", _("公開FAQ")


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("下書き")
    PUBLISHED = "published", _("公開中")


class Tag(models.Model):
    name = models.CharField(_("タグ"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("タグ")
        verbose_name_plural = _("タグ")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """The current state of an article; every save also writes an ArticleVersion."""

    title = models.CharField(_("タイトル"), max_length=200)
    body = models.TextField(_("本文（Markdown）"))
    visibility = models.CharField(_("公開範囲"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    state = models.CharField(_("状態"), max_length=10, choices=ArticleState.choices, default=ArticleState.DRAFT)
    category = models.ForeignKey(
        "cases.Category", verbose_name=_("分類"), null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("タグ"), blank=True, related_name="articles")
    # The resolved case this manual entry was made from (マニュアル化), if any.
    source_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="manual_articles"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("記事")
        verbose_name_plural = _("記事")
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["visibility", "state"], name="article_public")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC and self.state == ArticleState.PUBLISHED


class ArticleVersion(models.Model):
    """A frozen copy of an article as one author saved it (who changed what, and when)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    state = models.CharField(max_length=10, choices=ArticleState.choices)
    tags = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_unique")]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class TemplateKind(models.TextChoices):
    BODY = "body", _("本文")
    GREETING = "greeting", _("書き出し（挨拶）")
    CLOSING = "closing", _("結び")
    DECLINE = "decline", _("お断り（ルールを引用）")


# LINE's limits on quick-reply buttons: items of one message, characters of a label.
QUICK_REPLY_MAX, QUICK_REPLY_LABEL_MAX = 13, 20


def quick_reply_labels(text: str) -> list[str]:
    """The labels of a template's quick replies: one a line, blank lines and repeats dropped."""
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


class ReplyTemplate(models.Model):
    """A canned reply. Shared (no team, no owner), for one team, or personal (owner)."""

    name = models.CharField(_("名前"), max_length=100)
    kind = models.CharField(_("種類"), max_length=10, choices=TemplateKind.choices, default=TemplateKind.BODY)
    body = models.TextField(_("本文"), help_text=_("使える変数: {{ customer.name }} {{ order.number }} {{ order.tracking_url }} {{ agent.name }} {{ case.number }} {{ rule.title }} {{ rule.url }}"))
    team = models.ForeignKey("accounts.Team", verbose_name=_("チーム"), null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("個人用（本人）"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Decline templates cite the handling rule they apply, so declining is the same for everyone.
    rule = models.ForeignKey("knowledge.Rule", verbose_name=_("引用するルール"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="templates")
    position = models.PositiveIntegerField(_("並び順"), default=0)
    # A macro: what sending a reply written from this template also changes on the case
    # (knowledge/macros.py); each left empty changes nothing.
    set_status = models.CharField(_("送信時に状態を"), max_length=20, blank=True, choices=MACRO_STATUSES)
    set_category = models.ForeignKey("cases.Category", verbose_name=_("送信時に分類を"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    assign_to_sender = models.BooleanField(_("送信した人を担当者にする"), default=False)
    set_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("送信時に担当者を"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    promise = models.CharField(_("送信時に登録する約束"), max_length=300, blank=True,
                               help_text=_("例: 物流部に確認し、結果をご連絡する"))
    promise_business_hours = models.PositiveSmallIntegerField(
        _("約束の期限（営業時間で何時間後）"), null=True, blank=True,
        help_text=_("営業時間だけを数えます（休業日・時間外は数えません）。"),
    )
    # LINE quick-reply buttons sent with a reply written from this template on a LINE case
    # (line/quick.py): one label a line; tapping one sends the label as the customer's message.
    quick_replies = models.TextField(
        _("LINEのクイックリプライ"), blank=True,
        help_text=_("LINEの案件で、このテンプレートの返信の下に出すボタン。1行に1つ、20文字まで、13個まで。押すとその文言がお客様のメッセージとして届きます。"),
    )

    class Meta:
        verbose_name = _("返信テンプレート")
        verbose_name_plural = _("返信テンプレート")
        ordering = ["kind", "position", "name"]

    def __str__(self) -> str:
        return self.name


class RuleTopic(models.TextChoices):
    RETURNS = "returns", _("返品")
    REFUNDS = "refunds", _("返金")
    DELIVERY = "delivery", _("配送")
    DEFECTS = "defects", _("不良品")
    ABUSIVE = "abusive", _("不当な要求")
    AUTHORITY = "authority", _("権限と承認")
    OTHER = "other", _("その他")


class Rule(models.Model):
    """A customer-handling rule; its wording lives in dated RuleVersion rows."""

    code = models.SlugField(_("コード"), max_length=40, unique=True)
    title = models.CharField(_("ルール名"), max_length=200)
    topic = models.CharField(_("テーマ"), max_length=10, choices=RuleTopic.choices, default=RuleTopic.OTHER)
    category = models.ForeignKey(
        "cases.Category", verbose_name=_("対象の分類"), null=True, blank=True, on_delete=models.SET_NULL, related_name="rules"
    )
    public = models.BooleanField(_("公開ポリシーに載せる"), default=False)

    class Meta:
        verbose_name = _("顧客対応ルール")
        verbose_name_plural = _("顧客対応ルール")
        ordering = ["topic", "code"]

    def __str__(self) -> str:
        return self.title


class RuleVersion(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    effective_from = models.DateField(_("適用開始日"))
    body = models.TextField(_("本文（Markdown）"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ルールの版")
        verbose_name_plural = _("ルールの版")
        ordering = ["-effective_from", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "effective_from"], name="rule_version_per_day")]

    def __str__(self) -> str:
        return _("%(title)s（%(date)s〜）") % {"title": self.rule.title, "date": f"{self.effective_from:%Y/%m/%d}"}


class CustomerFlag(models.Model):
    """A customer flagged as making abusive demands; a rule version must be cited."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="knowledge_flags")
    rule_version = models.ForeignKey(RuleVersion, verbose_name=_("根拠のルール"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("具体的な言動"))
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(_("解除した日時"), null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("解除した担当者"))
    clear_reason = models.TextField(_("解除の理由"), blank=True)

    class Meta:
        verbose_name = _("要注意のお客様")
        verbose_name_plural = _("要注意のお客様")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.reason[:30]}"


class DocKind(models.TextChoices):
    CASE = "case", _("案件")
    MESSAGE = "message", _("やりとり")
    CUSTOMER = "customer", _("お客様")
    ORDER = "order", _("注文")
    ARTICLE = "article", _("記事")


class SearchDoc(models.Model):
    """One searchable thing. `tokens` are SudachiPy tokens joined by spaces; the engine
    index over them is created per vendor in migration 0002 (FTS5 / tsvector + GIN).
    `title` and `body` are the NFKC text shown as the hit, so a result page never joins
    the big tables. `case_id` groups messages under their case (no FK: the index may be
    rebuilt independently)."""

    kind = models.CharField(max_length=10, choices=DocKind.choices)
    ref_id = models.BigIntegerField()
    case_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    tokens = models.TextField(blank=True)
    at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "ref_id"], name="searchdoc_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref_id}"


class AfterHoursReply(models.Model):
    """The automatic first answer sent outside business hours: at most one per case."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="after_hours_reply")
    interaction = models.ForeignKey("cases.Interaction", null=True, on_delete=models.SET_NULL, related_name="+")
    reply_by = models.DateTimeField(_("担当者が返信する予定"))
    articles = models.ManyToManyField(Article, blank=True, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"after-hours reply for case {self.case_id}"


class DeflectionKind(models.TextChoices):
    CLICKED = "clicked", _("FAQを開いた")
    HELPED = "helped", _("解決したと回答")
    NOT_HELPED = "not_helped", _("解決しなかったと回答")


class Deflection(models.Model):
    """What the customer did with the after-hours answer, recorded without an agent."""

    reply = models.ForeignKey(AfterHoursReply, on_delete=models.CASCADE, related_name="deflections")
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, choices=DeflectionKind.choices)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"



class CaseSuggestions(models.Model):
    """The published articles and resolved cases most like a case's complaint, ranked by the
    worker when the case is indexed (knowledge.suggestions.do_refresh), so the case page reads
    them in one query instead of ranking the complaint again on every view (issue 16: the
    ranking took 26 ms of each case page). `articles_version` says which set of published
    articles they were ranked against; a page that finds it changed shows these and asks the
    worker for new ones."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="suggestions")
    articles = models.JSONField(default=list)  # article ids, best first
    cases = models.JSONField(default=list)  # resolved case ids, best first
    articles_version = models.CharField(max_length=80)
    text_hash = models.CharField(max_length=40)  # of the subject and complaint they were ranked for
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"suggestions for case {self.case_id}"
