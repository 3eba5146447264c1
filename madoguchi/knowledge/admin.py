from django.contrib import admin

from madoguchi.knowledge.models import ReplyTemplate, Rule, RuleVersion, Tag


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "team", "owner", "rule", "position")
    list_filter = ("kind", "team")


class RuleVersionInline(admin.StackedInline):
    model = RuleVersion
    extra = 0
    fields = ("effective_from", "body", "author")


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("title", "code", "topic", "category", "public")
    inlines = [RuleVersionInline]


admin.site.register(Tag)
