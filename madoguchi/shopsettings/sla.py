"""SLAポリシー (admins): the targets per priority, channel and category, in business minutes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.metrics.models import SlaPolicy
from madoguchi.shopsettings import services
from madoguchi.shopsettings.forms import SlaPolicyForm


@admin_required
def sla_list(request: HttpRequest) -> HttpResponse:
    policies = SlaPolicy.objects.select_related("category").order_by("position", "id")
    return render(request, "shopsettings/sla_list.html", {"policies": policies})


@admin_required
def sla_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk is not None else SlaPolicy()
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        saved = services.do_save_sla_policy(staff_user(request), form)
        messages.success(request, _("SLAポリシー「%(name)s」を保存しました。") % {"name": saved.name})
        return redirect("shopsettings:sla")
    return render(request, "shopsettings/sla_edit.html", {"form": form, "policy": policy},
                  status=400 if form.errors else 200)


@admin_required
@require_POST
def sla_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk)
    try:
        services.do_delete_sla_policy(staff_user(request), policy)
    except services.SettingsRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("SLAポリシー「%(name)s」を削除しました。") % {"name": policy.name})
    return redirect("shopsettings:sla")
