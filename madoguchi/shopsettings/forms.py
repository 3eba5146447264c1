"""The settings pages' forms: every check answers in Japanese, and nothing is saved unless all pass."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Role, Team, User
from madoguchi.businesshours.models import WEEKDAYS
from madoguchi.chat.models import WidgetSettings
from madoguchi.metrics.models import SlaPolicy

Span = tuple[dt.time, dt.time]
END_OF_DAY = dt.time(23, 59, 59)
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})[-~〜–](\d{1,2}):(\d{2})$")


def _clock(hours: int, minutes: int) -> dt.time | None:
    if hours == 24 and minutes == 0:
        return END_OF_DAY  # 「24:00」: to the end of the day
    if 0 <= hours < 24 and 0 <= minutes < 60:
        return dt.time(hours, minutes)
    return None


def _hhmm(at: dt.time) -> str:
    return "24:00" if at == END_OF_DAY else f"{at.hour}:{at.minute:02d}"


def format_spans(spans: list[Span]) -> str:
    return ", ".join(f"{_hhmm(opens)}-{_hhmm(closes)}" for opens, closes in spans)


def parse_spans(text: str) -> list[Span]:
    """「9:00-12:00, 13:00-18:00」 (full-width digits, 〜 and 、 too) → sorted spans; empty: closed."""
    text = unicodedata.normalize("NFKC", text).replace("～", "~")
    spans: list[Span] = []
    for part in (p for p in re.split(r"[,、\s]+", text) if p):
        match = _SPAN.match(part)
        if match is None:
            raise forms.ValidationError(_("「%(span)s」は「9:00-18:00」の形で入れてください。"), params={"span": part})
        opens, closes = _clock(int(match[1]), int(match[2])), _clock(int(match[3]), int(match[4]))
        if opens is None or closes is None:
            raise forms.ValidationError(_("「%(span)s」の時刻が正しくありません。"), params={"span": part})
        if closes <= opens:
            raise forms.ValidationError(_("「%(span)s」: 終了時刻は開始時刻より後にしてください。"), params={"span": part})
        spans.append((opens, closes))
    spans.sort()
    for (_o1, c1), (o2, c2) in zip(spans, spans[1:], strict=False):
        if o2 < c1:
            raise forms.ValidationError(_("時間帯が重なっています（%(span)s）。"), params={"span": f"{_hhmm(o2)}-{_hhmm(c2)}"})
    return spans


class WeeklyHoursForm(forms.Form):
    """Each weekday's opening spans as one line of text; an empty line is a closed day."""

    closed_on_public_holidays = forms.BooleanField(label=_("祝日は休業"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number, name in WEEKDAYS:
            self.fields[f"day{number}"] = forms.CharField(
                label=name, required=False, max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "9:00-12:00, 13:00-18:00"}),
            )
        self.order_fields([f"day{number}" for number, _name in WEEKDAYS])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.spans: dict[int, list[Span]] = {}
        for number, _name in WEEKDAYS:
            key = f"day{number}"
            if key not in data:
                continue  # already has its error
            try:
                self.spans[number] = parse_spans(data[key])
            except forms.ValidationError as error:
                self.add_error(key, error)
                continue
            data[key] = format_spans(self.spans[number])  # what the trail shows, as the form showed it
        if not self.errors and not any(self.spans.values()):
            raise forms.ValidationError(_("少なくとも1つの曜日に営業時間を入れてください。"))
        return data


class ClosedRangeForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, widget=forms.TextInput(attrs={"placeholder": "年末年始"}))
    start = forms.DateField(label=_("開始日"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=_("1日だけの休業なら空欄にします。"))
    every_year = forms.BooleanField(label=_("毎年くり返す"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            if end < start:
                self.add_error("end", _("終了日は開始日以降にしてください。"))
            elif (end - start).days >= 365:
                self.add_error("end", _("休業期間は1年未満にしてください。"))
        if start is not None and data.get("every_year") and (start.month, start.day) == (2, 29):
            self.add_error("start", _("2月29日は毎年くり返せません。"))
        return data


class SlaPolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SlaPolicy
        fields = ["name", "priority", "channel", "category", "first_response_minutes", "next_response_minutes",
                  "resolution_minutes", "warn_percent", "position"]

    MAX_MINUTES = 60 * 24 * 365

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_response_minutes", "next_response_minutes", "resolution_minutes"):
            self.fields[name].widget.attrs.update({"min": 1, "max": self.MAX_MINUTES})

    def clean_first_response_minutes(self) -> int:
        return self._minutes("first_response_minutes")

    def clean_next_response_minutes(self) -> int:
        return self._minutes("next_response_minutes")

    def clean_resolution_minutes(self) -> int:
        return self._minutes("resolution_minutes")

    def _minutes(self, name: str) -> int:
        value = int(self.cleaned_data[name])
        if not 1 <= value <= self.MAX_MINUTES:
            raise forms.ValidationError(_("1分から%(max)s分までで入れてください。"), params={"max": f"{self.MAX_MINUTES:,}"})
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, resolution = data.get("first_response_minutes"), data.get("resolution_minutes")
        if first is not None and resolution is not None and resolution < first:
            self.add_error("resolution_minutes", _("解決の目標は、初回応答の目標以上にしてください。"))
        same = SlaPolicy.objects.filter(priority=data.get("priority"), channel=data.get("channel") or "",
                                        category=data.get("category")).exclude(pk=self.instance.pk).first()
        if same is not None and not self.errors:
            raise forms.ValidationError(_("同じ条件（優先度・窓口・分類）のSLAポリシー「%(name)s」がすでにあります。"), params={"name": same.name})
        return data


def _origin(line: str) -> str:
    parts = urlsplit(line)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise forms.ValidationError(_("「%(line)s」はオリジンではありません。https://shop.example.jp の形で、パスを付けずに入れてください。"),
                                    params={"line": line})
    try:
        port = parts.port
    except ValueError as error:
        raise forms.ValidationError(_("「%(line)s」のポート番号が正しくありません。"), params={"line": line}) from error
    return f"{parts.scheme}://{parts.hostname}{f':{port}' if port else ''}"


class WidgetSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = WidgetSettings
        fields = ["allowed_origins", "follow_business_hours", "opens", "closes", "greeting"]
        widgets = {
            "allowed_origins": forms.Textarea(attrs={"rows": 3, "placeholder": "https://shop.example.jp"}),
            "opens": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "greeting": forms.Textarea(attrs={"rows": 3, "lang": "ja"}),
        }

    def clean_allowed_origins(self) -> str:
        lines = [line.strip() for line in str(self.cleaned_data["allowed_origins"]).splitlines() if line.strip()]
        origins = list(dict.fromkeys(_origin(line) for line in lines))
        return "\n".join(origins)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens"), data.get("closes")
        if (opens is None) != (closes is None) and "opens" not in self.errors and "closes" not in self.errors:
            raise forms.ValidationError(_("チャットの時間は、開始と終了の両方を入れるか、両方を空欄にしてください。"))
        if opens is not None and closes is not None and closes <= opens:
            self.add_error("closes", _("終了時刻は開始時刻より後にしてください。"))
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("メールアドレス"), max_length=254)
    username = forms.CharField(label=_("ユーザー名"), max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text=_("ログインに使います（英数字と @ . + - _）。"))
    display_name = forms.CharField(label=_("表示名"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("役割"), choices=Role.choices, initial=Role.AGENT)
    team = forms.ModelChoiceField(label=_("チーム"), queryset=Team.objects.order_by("name"), required=False)

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("このユーザー名はすでに使われています。"))
        return username

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("このメールアドレスの利用者はすでにいます。"))
        return email


class UserEditForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ["display_name", "email", "role", "team", "replies_need_approval"]

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["email"].required = True
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("このメールアドレスの利用者はすでにいます。"))
        return email

    def clean_role(self) -> str:
        role = str(self.cleaned_data["role"])
        before = User.objects.get(pk=self.instance.pk)
        if role != before.role and before.pk == self.actor.pk:
            raise forms.ValidationError(_("ご自身の役割は変更できません。ほかの管理者に依頼してください。"))
        if before.role == Role.ADMIN and role != Role.ADMIN and before.is_active and last_admin(before):
            raise forms.ValidationError(_("最後の管理者の役割は変更できません。先にほかの人を管理者にしてください。"))
        return role


def last_admin(user: User) -> bool:
    """Whether `user` is the only active admin (role admin, or a superuser) left."""
    from django.db.models import Q

    return not User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True).exclude(pk=user.pk).exists()


class TeamForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Team
        fields = ["name", "lead"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if Team.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("同じ名前のチームがすでにあります。"))
        return name


class TeamEditForm(TeamForm):
    """A team's own page: its name, lead and how its new cases are assigned."""

    class Meta(TeamForm.Meta):
        fields = ["name", "lead", "assignment_rule"]


class LineAccountForm(forms.ModelForm):  # type: ignore[type-arg]
    """A LINE official account beyond the first: its name, and the channel secret and access
    token from LINE Developers (required when adding; left empty, they stay as they are)."""

    channel_secret = forms.CharField(
        label=_("チャネルシークレット"), required=False, strip=True, widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("LINE Developers の「チャネル基本設定」にある32文字の英数字"))
    access_token = forms.CharField(
        label=_("チャネルアクセストークン（長期）"), required=False, strip=True, max_length=1000,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}), help_text=_("「Messaging API設定」で発行したもの"))

    class Meta:
        from madoguchi.line.models import LineAccount

        model = LineAccount
        fields = ["name", "active"]

    def clean_channel_secret(self) -> str:
        value: str = self.cleaned_data.get("channel_secret") or ""
        if value and not re.fullmatch(r"[0-9a-f]{32}", value):
            raise forms.ValidationError(_("チャネルシークレットは32文字の英数字（0-9、a-f）です。"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None:
            for name in ("channel_secret", "access_token"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("追加するときは入力してください。"))
        return data
