from django.contrib import admin

from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin
from madoguchi.metrics.models import (
    ImpactInputs,
    QualityReview,
    SlaBreach,
    SlaPolicy,
    Survey,
    Target,
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    list_display = ["name", "priority", "channel", "category", "first_response_minutes", "next_response_minutes",
                    "resolution_minutes", "warn_percent", "position"]
    list_editable = ["position"]


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdmin):
    list_display = ["case", "target", "due_at", "breached_at"]
    list_filter = ["target"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    """Surveys sent and the customers' answers: only the customer answers."""

    list_display = ["case", "sent_at", "answered_at", "rating", "nps"]
    exclude = ["nonce"]


@admin.register(QualityReview)
class QualityReviewAdmin(ReadOnlyAdmin):
    list_display = ["case", "agent", "reviewer", "created_at"]


@admin.register(Target)
class TargetAdmin(AuditedAdmin):
    list_display = ["code", "value"]


@admin.register(ImpactInputs)
class ImpactInputsAdmin(AuditedAdmin):
    pass
