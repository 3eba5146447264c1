"""Thin views of the knowledge capability: the desk side (login required)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import AuthorityLimit
from madoguchi.cases.models import Case
from madoguchi.ids import parse_id
from madoguchi.knowledge import afterhours, replies, search, services, suggestions
from madoguchi.knowledge.forms import (
    ArticleForm,
    FlagForm,
    RuleVersionForm,
    SearchForm,
    TemplateForm,
)
from madoguchi.knowledge.models import Article, CustomerFlag, ReplyTemplate, Rule, RuleTopic


@login_required
def search_view(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    hits: list[search.Hit] = []
    query = ""
    if form.is_valid() and form.cleaned_data["q"]:
        query = form.cleaned_data["q"]
        kind = form.cleaned_data["kind"]
        kinds = ["case", "message"] if kind == "case" else ([kind] if kind else None)
        days = form.cleaned_data["period"]
        since = timezone.now() - dt.timedelta(days=int(days)) if days else None
        hits = search.search(query, kinds=kinds, limit=50, since=since)
    return render(request, "knowledge/search.html", {"form": form, "hits": hits, "query": query})


@login_required
def article_list(request: HttpRequest) -> HttpResponse:
    articles = Article.objects.select_related("category", "updated_by").prefetch_related("tags")[:300]
    return render(request, "knowledge/article_list.html", {"articles": articles, "deflection": afterhours.deflection_summary()})


@login_required
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("category", "source_case"), pk=pk)
    versions = article.versions.select_related("author")[:50]
    return render(request, "knowledge/article_detail.html", {
        "article": article, "html": services.render_markdown(article.body), "versions": versions,
    })


@login_required
def article_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk) if pk else None
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                article = services.do_save_article(
                    article, actor=staff_user(request), title=data["title"], body=data["body"], visibility=data["visibility"],
                    state=data["state"], category=data["category"], tags=services.parse_tags(data["tags"]),
                    expected_version=data["version"] if article else None,
                )
            except services.KnowledgeError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("記事を保存しました。"))
                return redirect("knowledge:article", pk=article.pk)
    elif article is not None:
        form = ArticleForm(initial={
            "version": article.version, "title": article.title, "body": article.body, "visibility": article.visibility,
            "state": article.state, "category": article.category_id, "tags": ", ".join(t.name for t in article.tags.all()),
        })
    else:
        form = ArticleForm()
    return render(request, "knowledge/article_edit.html", {"form": form, "article": article},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def manual_from_case(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("category"), pk=pk)
    try:
        article = services.do_manual_from_case(case, actor=staff_user(request))
    except services.KnowledgeError as error:
        messages.error(request, str(error))
        return redirect("cases:detail", pk=pk)
    messages.success(request, _("案件から下書きを作りました。内容を整えて公開してください。"))
    return redirect("knowledge:article_edit", pk=article.pk)


@login_required
@require_POST
def reply_hints(request: HttpRequest, pk: int) -> JsonResponse:
    case = get_object_or_404(Case, pk=pk)
    return JsonResponse({"hints": replies.reply_hints(case, request.POST.get("body", ""))})


@login_required
@require_POST
def flag_customer(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("customer"), pk=pk)
    form = FlagForm(request.POST)
    if form.is_valid():
        try:
            services.do_flag_customer(case.customer, actor=staff_user(request), rule_version=form.cleaned_data["rule_version"],
                                      reason=form.cleaned_data["reason"], case=case)
        except services.KnowledgeError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("要注意のお客様として記録しました。"))
    return redirect("cases:detail", pk=pk)


@login_required
@require_POST
def clear_flag(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift a 要注意 flag, with the reason (required); back to the case or customer page."""
    flag = get_object_or_404(CustomerFlag, pk=pk)
    try:
        services.do_clear_flag(flag, actor=staff_user(request), reason=request.POST.get("reason", ""))
    except services.KnowledgeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("要注意の記録を解除しました。"))
    case_id = parse_id(request.POST.get("case"))
    if case_id is not None and Case.objects.filter(pk=case_id, customer_id=flag.customer_id).exists():
        return redirect("cases:detail", pk=case_id)
    return redirect("customers:detail", pk=flag.customer_id)


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = [(rule, services.version_in_force(rule, today)) for rule in Rule.objects.select_related("category")]
    return render(request, "knowledge/rule_list.html", {"rows": rows})


@login_required
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    form = RuleVersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_add_rule_version(rule, actor=staff_user(request), effective_from=form.cleaned_data["effective_from"],
                                         body=form.cleaned_data["body"])
        except services.KnowledgeError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("新しい版を登録しました。"))
            return redirect("knowledge:rule", pk=pk)
    versions = [(v, services.render_markdown(v.body)) for v in rule.versions.select_related("author")]
    current = services.version_in_force(rule, timezone.localdate())
    limits = AuthorityLimit.objects.all() if rule.topic == RuleTopic.AUTHORITY else None
    return render(request, "knowledge/rule_detail.html", {
        "rule": rule, "versions": versions, "current": current, "form": form, "limits": limits,
        "can_edit": services.can_publish(staff_user(request)),
    }, status=400 if form.errors else 200)


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    rows = [(t, replies.can_edit(user, t)) for t in replies.templates_for(user)]
    return render(request, "knowledge/template_list.html", {"rows": rows})


@login_required
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = staff_user(request)
    template = get_object_or_404(ReplyTemplate, pk=pk) if pk else ReplyTemplate()
    if pk and not replies.can_edit(user, template):
        messages.error(request, _("このテンプレートを編集する権限がありません。"))
        return redirect("knowledge:templates")
    form = TemplateForm(request.POST or None, instance=template,
                        initial={"scope": replies.scope_of(template) if pk else "personal"})
    if request.method == "POST" and form.is_valid():
        try:
            replies.do_save_template(form.save(commit=False), actor=user, scope=form.cleaned_data["scope"])
        except services.KnowledgeError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("テンプレートを保存しました。"))
            return redirect("knowledge:templates")
    return render(request, "knowledge/template_edit.html", {"form": form, "template": template},
                  status=400 if form.errors else 200)


@login_required
def case_reply_tools(request: HttpRequest, pk: int) -> HttpResponse:
    """The template picker of the case page's reply box, fetched by htmx after the page."""
    case = get_object_or_404(Case.objects.select_related("customer", "order"), pk=pk)
    return render(request, "knowledge/_reply_tools_inner.html", replies.reply_tools(case, staff_user(request)))


@login_required
def case_suggestions(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("customer", "category"), pk=pk)
    return render(request, "knowledge/_case_suggestions_inner.html", suggestions.panel(case))
