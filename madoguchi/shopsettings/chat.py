"""チャットウィジェット (admins): the sites allowed to embed it, its hours and its greeting.
Until saved here, the environment's settings apply (shown as the form's starting values)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from madoguchi.accounts import audit
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.chat import widget_settings
from madoguchi.chat.models import WidgetSettings
from madoguchi.shopsettings import services
from madoguchi.shopsettings.forms import WidgetSettingsForm


def _row() -> WidgetSettings:
    """The saved row, or an unsaved one holding the environment's values."""
    row = WidgetSettings.objects.filter(pk=1).first()
    if row is not None:
        return row
    defaults = widget_settings.defaults()
    return WidgetSettings(allowed_origins="\n".join(defaults.allowed_origins),
                          follow_business_hours=defaults.follow_business_hours)


@admin_required
def chat_page(request: HttpRequest) -> HttpResponse:
    row = _row()
    saved = row.pk is not None
    # The trail compares with what applied before: the environment's values on a first save.
    before = audit.snapshot(row)
    form = WidgetSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        services.do_save_widget_settings(staff_user(request), form, before)
        messages.success(request, _("チャットウィジェットの設定を保存しました。"))
        return redirect("shopsettings:chat")
    return render(request, "shopsettings/chat.html", {"form": form, "saved": saved},
                  status=400 if form.errors else 200)
