from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "madoguchi.cases"
    label = "cases"
    verbose_name = "案件"

    def ready(self) -> None:
        from madoguchi.cases import attention, presence, signals

        signals.interaction_added.connect(attention.on_interaction_added, dispatch_uid="cases-attention-interaction")
        signals.case_status_changed.connect(attention.on_status_changed, dispatch_uid="cases-attention-status")
        signals.interaction_added.connect(presence.on_interaction_added, dispatch_uid="cases-presence-replied")
