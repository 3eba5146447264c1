from django.urls import URLPattern, URLResolver, path

from madoguchi.mail import views

app_name = "mail"
urlpatterns: list[URLPattern | URLResolver] = [
    path("failed/", views.failed_list, name="failed"),
    path("raw/<int:pk>/retry/", views.raw_retry, name="raw_retry"),
    path("raw/<int:pk>.eml", views.raw_download, name="raw_download"),
    path("attachment/<int:pk>/", views.attachment_download, name="attachment"),
    path("outbound/<int:pk>/retry/", views.outbound_retry, name="outbound_retry"),
]
