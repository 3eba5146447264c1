"""転送先の部署 (admins): the departments a case is forwarded to by mail, with their addresses."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.mail.forms import DepartmentForm
from madoguchi.mail.models import Department
from madoguchi.shopsettings import services


@admin_required
def departments_page(request: HttpRequest) -> HttpResponse:
    """The list, and a form to add one (kept with its errors when refused)."""
    return _save_or_show(request, Department(), "shopsettings/departments.html",
                         {"departments": Department.objects.order_by("name")})


@admin_required
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Department, pk=pk)
    return _save_or_show(request, row, "shopsettings/department_edit.html", {"department": row})


def _save_or_show(request: HttpRequest, row: Department, template: str, context: dict[str, Any]) -> HttpResponse:
    form = DepartmentForm(request.POST or None, instance=row, prefix="dep")
    if request.method == "POST" and form.is_valid():
        saved = services.do_save_department(staff_user(request), form)
        messages.success(request, _("部署「%(name)s」を保存しました。") % {"name": saved.name})
        return redirect("shopsettings:departments")
    return render(request, template, {"form": form, **context}, status=400 if form.errors else 200)


@admin_required
@require_POST
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Department, pk=pk)
    services.do_delete_department(staff_user(request), row)
    messages.success(request, _("部署「%(name)s」を削除しました。") % {"name": row.name})
    return redirect("shopsettings:departments")
