"""The lists with their CSV files, and the printable case with its PDF.

Who may have what is `lists.Kind.allowed` (agents: cases and promises, as in the inbox; leads
and admins also customers and the compensation ledger, a lead's ledger being their team's).
Every file handed out (CSV, the printable page, the PDF) is an entry of the access log
(`accounts.access_log`, kind 「データの書き出し」), as the customer data export is."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from madoguchi.accounts import access_log, throttle
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import AccessKind
from madoguchi.downloads import as_download
from madoguchi.exports import case_document, csvfile, lists

# WeasyPrint tells each step of every PDF at INFO ("Step 6 - Creating PDF"): not the desk's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _kind(user: Any, code: str) -> lists.Kind:
    kind = lists.KINDS.get(code)
    if kind is None:
        raise Http404
    if not kind.allowed(user):
        raise PermissionDenied
    return kind


def _log(request: HttpRequest, detail: str) -> None:
    access_log.record(AccessKind.EXPORT, user=staff_user(request), address=throttle.client_address(request),
                      detail=detail)


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    return render(request, "exports/index.html", {"kinds": [k for k in lists.KINDS.values() if k.allowed(user)]})


def _list_page(request: HttpRequest, kind: lists.Kind, form: Any, status: int = 200) -> HttpResponse:
    user = staff_user(request)
    rows: list[list[Any]] = []
    cursor = ""
    if form.is_valid():
        rows, cursor = lists.page(kind, user, form, request.GET.get("cursor", ""))
    column, prefix = kind.link
    return render(request, "exports/list.html", {
        "kind": kind, "form": form, "header": kind.header(), "rows": rows, "next_cursor": cursor,
        "query": _query(request), "link_column": column, "link_prefix": prefix,
    }, status=status)


@login_required
def list_view(request: HttpRequest, code: str) -> HttpResponse:
    kind = _kind(staff_user(request), code)
    return _list_page(request, kind, kind.form(request.GET))  # a bad filter: its message, and no rows


@login_required
def csv_view(request: HttpRequest, code: str) -> HttpResponseBase:
    user = staff_user(request)
    kind = _kind(user, code)
    form = kind.form(request.GET)
    if not form.is_valid():  # the list page with the message, not a file of something else
        return _list_page(request, kind, form, status=400)
    with translation.override(settings.LANGUAGE_CODE):
        _log(request, _("%(title)sの CSV（%(filters)s）") % {"title": kind.title, "filters": lists.describe(kind, form)})
    return csvfile.csv_response(request, csvfile.dated_name(kind.stem), kind.header(), lists.every_row(kind, user, form))


@login_required
def case_print(request: HttpRequest, pk: int) -> HttpResponse:
    context = case_document.document(pk)
    with translation.override(settings.LANGUAGE_CODE):
        _log(request, _("案件 #%(pk)s の印刷用ページ") % {"pk": pk})
    return render(request, "exports/case_print.html", {**context, "for_pdf": False})


def _no_fetching(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint may load nothing: the page is self-contained and its text is the customers'."""
    raise ValueError(f"not fetched: {url[:80]}")


def render_pdf(context: dict[str, Any], template: str = "exports/case_print.html",
               stylesheet: str = "exports/print.css") -> bytes:
    """A printable page as a PDF (A4, Noto Sans CJK JP, nothing fetched): the case's, or another
    app's (the prevention report) with its own template and stylesheet."""
    from weasyprint import CSS, HTML  # a heavy import, paid only by the first PDF of a process

    page_html = render_to_string(template, {**context, "for_pdf": True})
    style = finders.find(stylesheet)
    assert isinstance(style, str)
    pdf = HTML(string=page_html, url_fetcher=_no_fetching).write_pdf(stylesheets=[CSS(filename=style)])
    assert pdf is not None
    return bytes(pdf)


@login_required
def case_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    context = case_document.document(pk)
    with translation.override(settings.LANGUAGE_CODE):
        _log(request, _("案件 #%(pk)s の PDF") % {"pk": pk})
    response = HttpResponse(render_pdf({**context, "request": request}), content_type="application/pdf")
    response["Cache-Control"] = "no-store"
    return as_download(response, csvfile.dated_name(f"case-{pk}", "pdf"))
