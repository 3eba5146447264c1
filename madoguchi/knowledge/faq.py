"""The public FAQ and policy pages: no login, linkable, mobile friendly."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from madoguchi.cases.models import Category
from madoguchi.knowledge import afterhours, search, services
from madoguchi.knowledge.models import Article, ArticleState, DeflectionKind, Rule, Visibility
from madoguchi.knowledge.text import normalise

PUBLIC = {"visibility": Visibility.PUBLIC, "state": ArticleState.PUBLISHED}


def faq_index(request: HttpRequest) -> HttpResponse:
    query = normalise(request.GET.get("q", ""))[:200].strip()
    category = request.GET.get("category", "")
    articles = Article.objects.filter(**PUBLIC).select_related("category").order_by("category__position", "title")
    if category:
        articles = articles.filter(category__code=category)
    results = None
    if query:
        hits = search.search(query, kinds=["article"], limit=100)
        public = {a.pk: a for a in articles}
        results = [(public[hit.ref_id], hit) for hit in hits if hit.ref_id in public]
    categories = Category.objects.filter(articles__visibility=Visibility.PUBLIC, articles__state=ArticleState.PUBLISHED).distinct()
    return render(request, "knowledge/faq_index.html", {
        "articles": articles, "results": results, "query": query, "categories": categories, "category": category,
    })


def faq_article(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("category"), pk=pk, **PUBLIC)
    token = request.GET.get("r", "")[:64]
    if token:
        afterhours.do_record_deflection(token, DeflectionKind.CLICKED, article)
    related = Article.objects.filter(**PUBLIC, category=article.category).exclude(pk=pk)[:5] if article.category else []
    return render(request, "knowledge/faq_article.html", {
        "article": article, "html": services.render_markdown(article.body), "token": token, "related": related,
        "thanks": request.GET.get("thanks") == "1",
    })


@require_POST
def faq_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk, **PUBLIC)
    helped = request.POST.get("helped") == "1"
    kind = DeflectionKind.HELPED if helped else DeflectionKind.NOT_HELPED
    afterhours.do_record_deflection(request.POST.get("r", "")[:64], kind, article)
    return redirect(f"{request.path.rsplit('feedback/', 1)[0]}?thanks=1")


def policy(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = []
    for rule in Rule.objects.filter(public=True):
        version = services.version_in_force(rule, today)
        if version is not None:
            rows.append((rule, version, services.render_markdown(version.body)))
    if not rows and not Rule.objects.exists():
        raise Http404
    return render(request, "knowledge/policy.html", {"rows": rows, "today": today})
