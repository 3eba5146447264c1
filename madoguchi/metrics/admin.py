from django.contrib import admin

from madoguchi.metrics.models import (
    ImpactInputs,
    QualityReview,
    SlaBreach,
    SlaPolicy,
    Survey,
    Target,
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "channel", "category", "first_response_minutes", "next_response_minutes",
                    "resolution_minutes", "warn_percent", "position"]
    list_editable = ["position"]


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    list_display = ["case", "target", "due_at", "breached_at"]
    list_filter = ["target"]
    raw_id_fields = ["case"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["case", "sent_at", "answered_at", "rating", "nps"]
    raw_id_fields = ["case"]
    readonly_fields = ["nonce"]


@admin.register(QualityReview)
class QualityReviewAdmin(admin.ModelAdmin):
    list_display = ["case", "agent", "reviewer", "created_at"]
    raw_id_fields = ["case"]


admin.site.register(Target)
admin.site.register(ImpactInputs)
