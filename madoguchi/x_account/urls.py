from django.urls import path

from madoguchi.x_account import views

app_name = "x_account"

urlpatterns = [
    path("outbound/<int:pk>/retry/", views.retry, name="retry"),
    path("outbound/<int:pk>/dm/", views.send_by_dm, name="send_by_dm"),
]
