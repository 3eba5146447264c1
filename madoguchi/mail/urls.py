from django.urls import URLPattern, URLResolver, path

from madoguchi.mail import views, views_flow

app_name = "mail"
urlpatterns: list[URLPattern | URLResolver] = [
    path("failed/", views.failed_list, name="failed"),
    path("raw/<int:pk>/retry/", views.raw_retry, name="raw_retry"),
    path("raw/<int:pk>.eml", views.raw_download, name="raw_download"),
    path("attachment/<int:pk>/", views.attachment_download, name="attachment"),
    path("outbound/<int:pk>/retry/", views.outbound_retry, name="outbound_retry"),
    path("approvals/", views_flow.approvals, name="approvals"),
    path("held/<int:pk>/", views_flow.held_edit, name="held_edit"),
    path("held/<int:pk>/approve/", views_flow.approve, name="held_approve"),
    path("held/<int:pk>/return/", views_flow.return_reply, name="held_return"),
    path("held/<int:pk>/cancel/", views_flow.held_cancel, name="held_cancel"),
    path("cases/<int:pk>/forward/", views_flow.forward, name="forward"),
]
