"""The customer page's admin actions: download the person's data as JSON, erase the person."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import throttle
from madoguchi.accounts.views import admin_required
from madoguchi.customers.models import Customer
from madoguchi.privacy.services import do_erase_customer, export_customer, find_person


@admin_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    customer = find_person(str(get_object_or_404(Customer, pk=pk).pk))
    data = export_customer(customer, actor=request.user, address=throttle.client_address(request))  # type: ignore[arg-type]
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@admin_required
@require_POST
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    customer = find_person(str(get_object_or_404(Customer, pk=pk).pk))
    if request.POST.get("confirm", "").strip() != str(customer.pk):
        messages.error(request, _("確認のため、お客様番号を入力してください。消去は元に戻せません。"))
        return redirect("customers:detail", pk=customer.pk)
    done = do_erase_customer(customer, actor=request.user, address=throttle.client_address(request))  # type: ignore[arg-type]
    messages.success(request, _("個人データを消去しました（案件 %(cases)s 件、メッセージ %(messages)s 件、添付 %(attachments)s 件）。") % done)
    return redirect("customers:detail", pk=customer.pk)
