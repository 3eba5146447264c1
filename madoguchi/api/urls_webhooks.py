from django.urls import path

from madoguchi.api import views

app_name = "webhooks"
urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("<int:pk>/toggle/", views.webhook_toggle, name="toggle"),
    path("<int:pk>/delete/", views.webhook_delete, name="delete"),
]
