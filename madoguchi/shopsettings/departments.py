"""転送先の部署 (admins): the departments a case is forwarded to by mail, with their addresses."""

from __future__ import annotations

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
    form = DepartmentForm(request.POST or None, prefix="dep")
    if request.method == "POST" and form.is_valid():
        saved = services.do_save_department(staff_user(request), form)
        messages.success(request, _("部署「%(name)s」を保存しました。") % {"name": saved.name})
        return redirect("shopsettings:departments")
    return render(request, "shopsettings/departments.html", {"form": form, "departments": Department.objects.order_by("name")},
                  status=400 if form.errors else 200)


@admin_required
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Department, pk=pk)
    form = DepartmentForm(request.POST or None, instance=row, prefix="dep")
    if request.method == "POST" and form.is_valid():
        saved = services.do_save_department(staff_user(request), form)
        messages.success(request, _("部署「%(name)s」を保存しました。") % {"name": saved.name})
        return redirect("shopsettings:departments")
    return render(request, "shopsettings/department_edit.html", {"form": form, "department": row},
                  status=400 if form.errors else 200)


@admin_required
@require_POST
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Department, pk=pk)
    services.do_delete_department(staff_user(request), row)
    messages.success(request, _("部署「%(name)s」を削除しました。") % {"name": row.name})
    return redirect("shopsettings:departments")
