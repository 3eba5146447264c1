"""Cases and what happened on them are records: the admin shows them, the desk writes them
(its services keep each case's change history). Only the category list is configuration."""

from django.contrib import admin

from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin, ReadOnlyInline
from madoguchi.cases.models import (
    AuditEvent,
    Case,
    CaseLink,
    Category,
    Commitment,
    Compensation,
    Handover,
    Interaction,
    MergeRecord,
)


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ("name", "code", "position", "active")


class InteractionInline(ReadOnlyInline, admin.StackedInline):
    model = Interaction


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("id", "subject", "status", "category", "assignee", "received_at")
    list_filter = ("status", "channel", "category")
    show_full_result_count = False  # COUNT(*) over a million rows is what makes admin lists slow
    inlines = [InteractionInline]


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "channel", "occurred_at", "author")
    list_filter = ("kind", "channel")
    show_full_result_count = False


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyAdmin):
    list_display = ("case", "description", "due_at", "state", "owner")
    list_filter = ("state",)


@admin.register(Compensation)
class CompensationAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "amount_yen", "state", "requested_by", "approved_by")
    list_filter = ("state", "kind")


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ("case", "from_user", "to_user", "to_team", "created_at")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "action", "actor", "at")
    list_filter = ("action",)
    show_full_result_count = False


@admin.register(MergeRecord)
class MergeRecordAdmin(ReadOnlyAdmin):
    list_display = ("source", "target", "actor", "at", "undone_at")


@admin.register(CaseLink)
class CaseLinkAdmin(ReadOnlyAdmin):
    list_display = ("case_a", "case_b", "note", "created_by", "created_at")
