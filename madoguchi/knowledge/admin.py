from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.accounts.admin_audit import AppendOnlyInline, AuditedAdmin
from madoguchi.knowledge.models import ReplyTemplate, Rule, RuleVersion, Tag


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(AuditedAdmin):
    list_display = ("name", "kind", "team", "owner", "rule", "position")
    list_filter = ("kind", "team")


class RuleVersionInline(AppendOnlyInline, admin.StackedInline):
    """A rule changes by a new dated version; versions already written (which flags on customers
    cite) stay as they were."""

    model = RuleVersion
    fields = ("effective_from", "body", "author")
    readonly_fields = ("author",)


@admin.register(Rule)
class RuleAdmin(AuditedAdmin):
    list_display = ("title", "code", "topic", "category", "public")
    inlines = [RuleVersionInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is RuleVersion:
            for version_form in formset.extra_forms:
                if version_form.has_changed():
                    version_form.instance.author = request.user
        super().save_formset(request, form, formset, change)


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    pass
