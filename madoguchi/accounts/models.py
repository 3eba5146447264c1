"""Staff accounts: users in roles, teams with a lead, and per-role authority limits."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.figures import yen


class Role(models.TextChoices):
    ADMIN = "admin", _("管理者")
    LEAD = "lead", _("チームリーダー")
    AGENT = "agent", _("担当者")


class AssignmentRule(models.TextChoices):
    NONE = "none", _("自動で割り当てない")
    ROUND_ROBIN = "round_robin", _("順番に割り当てる")
    LEAST_LOADED = "least_loaded", _("対応中の案件が少ない人に割り当てる")


class Availability(models.TextChoices):
    AVAILABLE = "available", _("対応可能")
    AWAY = "away", _("離席")
    VACATION = "vacation", _("休暇")


class Team(models.Model):
    name = models.CharField(_("チーム名"), max_length=100, unique=True)
    lead = models.ForeignKey(
        "accounts.User",
        verbose_name=_("リーダー"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    # How a case arriving on the team with nobody on it gets an agent (cases/assignment.py).
    assignment_rule = models.CharField(
        _("新しい案件の自動割り当て"), max_length=20, choices=AssignmentRule.choices, default=AssignmentRule.NONE,
        help_text=_("メール・チャット・フォームで届いた案件を、対応可能なメンバーに自動で割り当てます（離席・休暇の人は飛ばします）。"),
    )
    # Round robin: who got the team's last case (the next one goes to the member after them).
    last_assigned = models.ForeignKey(
        "accounts.User", verbose_name=_("最後に割り当てた人"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = _("チーム")
        verbose_name_plural = _("チーム")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# The columns str(user) reads: a list that shows only names reads only these.
USER_LABEL_FIELDS = ("display_name", "first_name", "last_name", "username")


def user_label(display_name: str, first_name: str, last_name: str, username: str) -> str:
    """How a user is named everywhere (str(user)), from the USER_LABEL_FIELDS columns."""
    return display_name or f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    display_name = models.CharField(_("表示名"), max_length=100, blank=True)
    role = models.CharField(_("役割"), max_length=10, choices=Role.choices, default=Role.AGENT)
    team = models.ForeignKey(
        Team, verbose_name=_("チーム"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    signature = models.TextField(
        _("メールの署名"), blank=True,
        help_text=_("あなたが送るメールに付く署名です。メールボックスの署名の {agent_signature} の位置（なければその上）に入ります。"),
    )
    # Set by an admin on /settings/users/ (new agents): their replies by mail wait for their lead's
    # approval before they are sent (mail.held, Mailbox.approval).
    replies_need_approval = models.BooleanField(
        _("返信に承認が必要"), default=False,
        help_text=_("オンにすると、この人のメールでの返信はリーダーが承認してから送られます（新人の方など）。"),
    )
    # Set by the user in the top bar; away and on-vacation agents get no case automatically.
    availability = models.CharField(
        _("状況"), max_length=10, choices=Availability.choices, default=Availability.AVAILABLE,
    )
    # Set by accounts/throttle.py after repeated failed logins; cleared by time or an admin.
    login_locked_until = models.DateTimeField(_("ログインのロック期限"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")

    def __str__(self) -> str:
        return user_label(self.display_name, self.first_name, self.last_name, self.username)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD


class AuthorityLimit(models.Model):
    """The largest compensation a role may grant without a team lead's approval (seed 002/003)."""

    role = models.CharField(_("役割"), max_length=10, choices=Role.choices, unique=True)
    max_compensation_yen = models.PositiveIntegerField(_("承認なしで付与できる補償の上限（円）"))

    class Meta:
        verbose_name = _("権限の上限")
        verbose_name_plural = _("権限の上限")

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {yen(self.max_compensation_yen)}"


class SettingsSource(models.TextChoices):
    SETTINGS = "settings", _("設定画面")
    ADMIN = "admin", _("管理画面")
    OTHER = "other", _("その他の画面")


class SettingsAction(models.TextChoices):
    ADD = "add", _("追加")
    CHANGE = "change", _("変更")
    DELETE = "delete", _("削除")


class SettingsChange(models.Model):
    """One change to the shop's configuration: who, when, what (old → new).

    Written only by madoguchi.accounts.audit, never edited (read-only in the admin too).
    `changes` is a list of {"field", "label", "old", "new"}: values as people read them, secrets
    masked. The actor's name is kept beside the key so the trail survives the user's deletion.
    """

    at = models.DateTimeField(_("日時"), default=timezone.now)
    actor = models.ForeignKey(
        "accounts.User", verbose_name=_("変更した人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("変更した人の名前"), max_length=150, blank=True)
    source = models.CharField(_("変更した場所"), max_length=10, choices=SettingsSource.choices)
    action = models.CharField(_("操作"), max_length=10, choices=SettingsAction.choices)
    target = models.CharField(_("対象"), max_length=100)
    object_id = models.CharField(_("対象のID"), max_length=64, blank=True)
    object_repr = models.CharField(_("対象の名前"), max_length=200, blank=True)
    changes = models.JSONField(_("変更内容"), default=list, blank=True)

    class Meta:
        verbose_name = _("設定の変更履歴")
        verbose_name_plural = _("設定の変更履歴")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.target} {self.object_repr}"


# Used until an admin saves the setting: compensations to one customer over the last 30 days
# count together against the requester's limit (so a limit cannot be split over several cases).
DEFAULT_CUSTOMER_PERIOD_DAYS = 30


class CompensationPolicy(models.Model):
    """Shop-wide rules for compensation authority, one row (pk 1), edited on the settings page.

    The requester's limit (AuthorityLimit) applies to the total on the case, and also to the
    total for the customer over the last `customer_period_days` days (0: not per customer)."""

    customer_period_days = models.PositiveSmallIntegerField(
        _("お客様ごとに合計する期間（日）"), default=DEFAULT_CUSTOMER_PERIOD_DAYS,
        help_text=_("この日数のあいだに同じお客様へ付与・申請した補償も合計して、権限の上限と比べます。0 にすると合計しません。"),
    )

    class Meta:
        verbose_name = _("補償のルール")
        verbose_name_plural = _("補償のルール")

    def __str__(self) -> str:
        return f"{self.customer_period_days}"


class LoginFailure(models.Model):
    """A failed login (the username tried, which may not exist, and the address); never the
    password. Counted by accounts/throttle.py."""

    username = models.CharField(_("ユーザー名"), max_length=150)
    address = models.CharField(_("アドレス"), max_length=45, blank=True)
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("ログインの失敗")
        verbose_name_plural = _("ログインの失敗")
        indexes = [models.Index(fields=["username", "-at"], name="login_failure_user"),
                   models.Index(fields=["address", "-at"], name="login_failure_address")]

    def __str__(self) -> str:
        return f"{self.username} @ {self.address}"


class SecurityPolicy(models.Model):
    """Shop-wide sign-in rules, one row (pk 1), edited on the settings page."""

    admins_need_two_factor = models.BooleanField(
        _("管理者に2段階認証を必須にする"), default=False,
        help_text=_("オンにすると、管理者は次のログインから認証アプリのコードが必要になります（未設定の人はログイン時に設定します）。"),
    )

    class Meta:
        verbose_name = _("ログインのルール")
        verbose_name_plural = _("ログインのルール")

    def __str__(self) -> str:
        return str(self.admins_need_two_factor)


class AccessKind(models.TextChoices):
    LOGIN = "login", _("ログイン")
    LOGIN_FAILED = "login_failed", _("ログインの失敗")
    LOGOUT = "logout", _("ログアウト")
    TWO_FACTOR_FAILED = "otp_failed", _("2段階認証コードの誤り")
    TWO_FACTOR_ON = "otp_on", _("2段階認証を設定")
    TWO_FACTOR_OFF = "otp_off", _("2段階認証を解除")
    PERMISSION = "permission", _("権限の変更")
    EXPORT = "export", _("データの書き出し")
    ERASE = "erase", _("個人データの消去")


class AccessEvent(models.Model):
    """The access log (accounts/access_log.py): sign-ins and their failures (never a password),
    changes of role or permission, and exports and erasures of personal data. Shown to admins at
    /settings/access/; never edited."""

    at = models.DateTimeField(_("日時"), default=timezone.now, db_index=True)
    kind = models.CharField(_("種類"), max_length=20, choices=AccessKind.choices)
    actor = models.ForeignKey(
        "accounts.User", verbose_name=_("操作した人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    username = models.CharField(_("ユーザー名"), max_length=150, blank=True)
    address = models.CharField(_("アドレス"), max_length=45, blank=True)
    detail = models.CharField(_("内容"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("アクセス記録")
        verbose_name_plural = _("アクセス記録")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username}"
