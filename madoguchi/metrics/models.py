"""SLA clocks, breaches, outcomes, surveys, quality reviews, targets and the rollup cells.

Everything here hangs off cases.Case by a OneToOne/FK; the case desk's tables are never
written by this app. The measures themselves are defined once, in definitions.py.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Channel, Priority


class SlaPolicy(models.Model):
    """Targets in business minutes. Blank priority/channel/category match any; the policy
    matching the most fields wins (ties: lowest position)."""

    name = models.CharField(_("名称"), max_length=100)
    priority = models.PositiveSmallIntegerField(_("優先度"), choices=Priority.choices, null=True, blank=True)
    channel = models.CharField(_("窓口"), max_length=10, choices=Channel.choices, blank=True)
    category = models.ForeignKey(
        "cases.Category", verbose_name=_("分類"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(_("初回応答（営業時間・分）"))
    next_response_minutes = models.PositiveIntegerField(_("次回応答（営業時間・分）"))
    resolution_minutes = models.PositiveIntegerField(_("解決（営業時間・分）"))
    warn_percent = models.PositiveSmallIntegerField(
        _("警告を出す経過率（%）"), default=80, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    position = models.PositiveIntegerField(_("並び順"), default=0)

    class Meta:
        verbose_name = _("SLAポリシー")
        verbose_name_plural = _("SLAポリシー")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.TextChoices):
    FIRST = "first", _("初回応答")
    NEXT = "next", _("次回応答")
    RESOLUTION = "resolution", _("解決")


class CaseSla(models.Model):
    """The SLA clocks of one case. Dues are absolute moments (business time already
    applied); while the clock is stopped (waiting on the customer, or resolved) the dues
    are null and `paused_since` is set; on restart the stopped business time is added."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="sla")
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    paused_since = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)  # business seconds stopped so far

    first_due = models.DateTimeField(null=True, blank=True)
    first_warn_at = models.DateTimeField(null=True, blank=True)
    first_done_at = models.DateTimeField(null=True, blank=True)
    first_wall_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_business_seconds = models.PositiveIntegerField(null=True, blank=True)

    next_started_at = models.DateTimeField(null=True, blank=True)
    next_paused_base = models.PositiveIntegerField(default=0)  # paused_seconds when started
    next_due = models.DateTimeField(null=True, blank=True)
    next_warn_at = models.DateTimeField(null=True, blank=True)

    resolution_due = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)

    targets_due = models.PositiveIntegerField(default=0)  # targets that came due or were met
    targets_met = models.PositiveIntegerField(default=0)
    # Once-only marks: "counted:first", "warned:next:<start iso>", … (see sla.py).
    marks = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("案件のSLA")
        verbose_name_plural = _("案件のSLA")
        indexes = [
            models.Index(fields=["first_due"], name="sla_first_due", condition=Q(first_due__isnull=False)),
            models.Index(fields=["next_due"], name="sla_next_due", condition=Q(next_due__isnull=False)),
            models.Index(fields=["resolution_due"], name="sla_resolution_due", condition=Q(resolution_due__isnull=False)),
            models.Index(fields=["first_warn_at"], name="sla_first_warn", condition=Q(first_warn_at__isnull=False)),
            models.Index(fields=["next_warn_at"], name="sla_next_warn", condition=Q(next_warn_at__isnull=False)),
            models.Index(
                fields=["resolution_warn_at"], name="sla_resolution_warn", condition=Q(resolution_warn_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"SLA {self.case_id}"


class SlaBreach(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="sla_breaches")
    target = models.CharField(_("目標"), max_length=12, choices=SlaTarget.choices)
    due_at = models.DateTimeField(_("期限"))
    breached_at = models.DateTimeField(_("超過を記録した日時"), auto_now_add=True)
    escalated_to = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        verbose_name = _("SLA超過")
        verbose_name_plural = _("SLA超過")
        constraints = [models.UniqueConstraint(fields=["case", "target", "due_at"], name="sla_breach_once")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_target_display()}"


class Outcome(models.Model):
    """What the case came to (seed 002's figures behind churn and sales through support)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="outcome")
    resolved = models.BooleanField(_("解決した"), default=True)
    cancelled = models.BooleanField(_("解約・キャンセルされた"), default=False)
    refund_asked = models.BooleanField(_("返金を求められた"), default=False)
    kept = models.BooleanField(_("解約を思いとどまってもらえた"), default=False)
    upsell = models.BooleanField(_("追加の購入があった"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("対応結果")
        verbose_name_plural = _("対応結果")

    def __str__(self) -> str:
        return f"{self.case_id}"


class SurveyState(models.TextChoices):
    WAITING = "waiting", _("送信待ち")
    SENT = "sent", _("送信済み")
    NOT_DELIVERABLE = "not_deliverable", _("届ける手段なし")


class Survey(models.Model):
    """One satisfaction survey per case; the link carries a signed token of `nonce`.

    Created on the case's first resolution as `waiting`, with `due_at` = resolution + the
    shop's delay (SurveyOptions); the minute job (tasks.send_due_surveys_job) sends it when
    due and the case is still resolved or closed. Reopening clears `due_at`, resolving again
    sets it anew. It leaves `waiting` once, in the transaction that writes the invitation, so
    a case gets at most one invitation."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="survey")
    nonce = models.CharField(max_length=32, unique=True)
    state = models.CharField(_("状態"), max_length=20, choices=SurveyState.choices, default=SurveyState.WAITING)
    due_at = models.DateTimeField(_("送信予定"), null=True, blank=True)
    # The channel the invitation went by ("": none could reach the customer).
    channel = models.CharField(_("送った手段"), max_length=10, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("満足度"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        _("おすすめ度"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(_("コメント"), blank=True)

    class Meta:
        verbose_name = _("満足度アンケート")
        verbose_name_plural = _("満足度アンケート")
        indexes = [models.Index(fields=["due_at"], name="survey_waiting_due", condition=Q(state="waiting"))]
        constraints = [
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="survey_rating_1_5"),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="survey_nps_0_10"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.rating or '-'}"


class SurveyOptions(models.Model):
    """When the satisfaction survey goes out (a single row; absent = the defaults).

    24 hours by default: long enough for the customer to see that the fix worked (the
    replacement arrived, the refund showed) and for a quick "still not right" to reopen the
    case before any survey goes; short enough that the conversation is fresh."""

    DEFAULT_DELAY_HOURS = 24
    MAX_DELAY_HOURS = 24 * 14

    delay_hours = models.PositiveIntegerField(
        _("解決からアンケート送信までの時間（時間）"), default=DEFAULT_DELAY_HOURS,
        validators=[MaxValueValidator(MAX_DELAY_HOURS)],
    )

    class Meta:
        verbose_name = _("アンケートの設定")
        verbose_name_plural = _("アンケートの設定")

    def __str__(self) -> str:
        return str(_("アンケートの設定"))


class DashboardOptions(models.Model):
    """How the dashboard reads its figures (a single row; absent = the defaults).

    A rate from a handful of answers is noise: one survey answer makes the satisfaction 0 % or
    100 %. Below `min_sample` answers (cases, SLA targets, …) a rate is shown greyed with its
    count, and nothing is projected from it (the impact estimate)."""

    DEFAULT_MIN_SAMPLE = 30
    MAX_MIN_SAMPLE = 10_000

    min_sample = models.PositiveIntegerField(
        _("数字を信頼できる最低件数"), default=DEFAULT_MIN_SAMPLE,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MIN_SAMPLE)],
    )

    class Meta:
        verbose_name = _("指標の表示の設定")
        verbose_name_plural = _("指標の表示の設定")

    def __str__(self) -> str:
        return str(_("指標の表示の設定"))


class FollowUp(models.Model):
    """A task for the team lead after a low survey score (seed 003 step 7)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="follow_ups")
    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="follow_up")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("フォローの記録"), blank=True)

    class Meta:
        verbose_name = _("低評価のフォロー")
        verbose_name_plural = _("低評価のフォロー")
        indexes = [models.Index(fields=["created_at"], name="followup_open", condition=Q(done_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.case_id}"


class QualityReview(models.Model):
    """A lead's score of one case on seed 001's six dimensions (1–5 each)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="quality_reviews")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quality_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_impression = models.PositiveSmallIntegerField(_("第一印象"))
    speed = models.PositiveSmallIntegerField(_("スピード"))
    accuracy = models.PositiveSmallIntegerField(_("正確さ"))
    empathy = models.PositiveSmallIntegerField(_("感受性（共感）"))
    flexibility = models.PositiveSmallIntegerField(_("柔軟性"))
    reassurance = models.PositiveSmallIntegerField(_("安心感"))
    comment = models.TextField(_("コメント"), blank=True)
    # Optional comment per dimension: {"speed": "返信までに2日…", …}
    notes = models.JSONField(_("観点ごとのコメント"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    DIMENSIONS = ["first_impression", "speed", "accuracy", "empathy", "flexibility", "reassurance"]

    class Meta:
        verbose_name = _("応対品質の評価")
        verbose_name_plural = _("応対品質の評価")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.agent}"

    @classmethod
    def dimension_labels(cls) -> list[tuple[str, str]]:
        """(field name, label) of the six dimensions in seed 001's order."""
        return [(d, str(getattr(cls._meta.get_field(d), "verbose_name", d))) for d in cls.DIMENSIONS]

    def rows(self) -> list[tuple[str, int, str]]:
        """(dimension label, score, comment) in seed 001's order, for display."""
        return [(label, getattr(self, d), self.notes.get(d, "")) for d, label in self.dimension_labels()]


class Target(models.Model):
    """Editable target of a measure (code from definitions.MEASURES)."""

    code = models.CharField(max_length=40, unique=True)
    value = models.FloatField(_("目標値"))

    class Meta:
        verbose_name = _("目標")
        verbose_name_plural = _("目標")

    def __str__(self) -> str:
        return f"{self.code}={self.value}"


class ImpactInputs(models.Model):
    """The shop's own figure for seed 002's impact arithmetic (single row)."""

    unhappy_leave_percent = models.FloatField(_("不満を持ったお客様のうち離れていく割合（%）"), default=52)
    value_per_customer_yen = models.PositiveIntegerField(_("お客様1人あたりの年間購入額（円）"), default=20000)

    class Meta:
        verbose_name = _("影響試算の前提")
        verbose_name_plural = _("影響試算の前提")

    def __str__(self) -> str:
        return str(_("影響試算の前提"))


def _count() -> models.IntegerField:
    return models.IntegerField(default=0)


class Cell(models.Model):
    """Figures of the cases received in one block — a local day (grain "d") or a month
    (grain "m", day = the 1st) — for one combination of the dashboard's filters.

    `kind` says which dimensions the row is about: "all" (the desk), "team", "agent",
    "channel" or "category" (one of them; the others are 0/""), or "cell" (all four at
    once; 0/"" there means the case has none). A view with no filter reads "all", one filter
    its own kind, two or more filters the "cell" rows that match them, and a breakdown
    groups a kind's rows by its value. Columns are definitions.Figures: one integer per
    scalar (definitions.SCALARS), and each duration histogram packed as int32 pairs
    (bucket seconds, count) — see rollup.pack. Every figure is additive, so any set of
    rows adds up exactly to the figures of their cases.
    """

    grain = models.CharField(max_length=1)
    day = models.DateField()
    kind = models.CharField(max_length=8)
    team = models.BigIntegerField(default=0)
    agent = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=10, default="")
    category = models.BigIntegerField(default=0)

    cases = _count()
    outcomes = _count()
    outcomes_resolved = _count()
    cancelled = _count()
    refunds = _count()
    kept = _count()
    upsell = _count()
    ever_resolved = _count()
    reopened = _count()
    ratings = _count()
    ratings_good = _count()
    nps_answers = _count()
    promoters = _count()
    detractors = _count()
    sla_due = _count()
    sla_met = _count()
    commitments_due = _count()
    commitments_on_time = _count()
    compensation_yen = models.BigIntegerField(default=0)
    assigned_cases = _count()
    chat_first_answer = models.BinaryField(default=b"")
    email_first_reply = models.BinaryField(default=b"")
    resolution = models.BinaryField(default=b"")

    class Meta:
        constraints = [
            # Also the index every read uses: block kind and day, then the filters.
            models.UniqueConstraint(fields=["grain", "kind", "day", "team", "agent", "channel", "category"],
                                    name="metrics_cell_key"),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.day} {self.kind} {self.team}/{self.agent}/{self.channel}/{self.category}"


class DirtyDay(models.Model):
    """A day whose rollup must be rebuilt (a case of that day changed)."""

    day = models.DateField(primary_key=True)
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.day)
