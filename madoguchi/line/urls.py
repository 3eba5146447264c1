from django.urls import path

from madoguchi.line import views

app_name = "line"

urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("webhook/<int:account>/", views.webhook, name="account_webhook"),
    path("attachment/<int:pk>/", views.attachment, name="attachment"),
    path("outbound/<int:pk>/retry/", views.retry, name="retry"),
]
