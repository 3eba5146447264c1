from django.urls import path

from madoguchi.base_shop import views

app_name = "base_shop"
urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("callback/", views.callback, name="callback"),
]
