from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreventionConfig(AppConfig):
    name = "madoguchi.prevention"
    label = "prevention"
    verbose_name = _("再発防止")

    def ready(self) -> None:
        from madoguchi.cases import page
        from madoguchi.cases.templatetags.desk import AUDIT_LABELS
        from madoguchi.prevention import services

        AUDIT_LABELS.update(services.AUDIT_LABELS)
        # The case page's root-cause panel reads the case's row with the case (no query of its own).
        if "root_cause" not in page.CASE_PAGE_RELATED:
            page.CASE_PAGE_RELATED.append("root_cause")
