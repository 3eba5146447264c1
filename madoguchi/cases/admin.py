from django.contrib import admin

from madoguchi.cases.models import (
    AuditEvent,
    Case,
    Category,
    Commitment,
    Compensation,
    Handover,
    Interaction,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "position", "active")


class InteractionInline(admin.StackedInline):
    model = Interaction
    extra = 0
    raw_id_fields = ("author",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "status", "category", "assignee", "received_at")
    list_filter = ("status", "channel", "category")
    raw_id_fields = ("customer", "order", "product", "passage", "assignee")
    show_full_result_count = False  # COUNT(*) over a million rows is what makes admin lists slow
    inlines = [InteractionInline]


for model in (Commitment, Compensation, Handover, AuditEvent):
    admin.site.register(model, raw_id_fields=("case",))
