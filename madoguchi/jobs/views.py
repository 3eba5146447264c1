"""The admins' page of background jobs (/settings/jobs/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.accounts.views import admin_required
from madoguchi.jobs.status import page_context


@admin_required
def status_page(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/status.html", page_context())
