from django.urls import path

from madoguchi.shopify import views

app_name = "shopify"
urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("webhooks/register/", views.register_webhooks, name="register_webhooks"),
]
