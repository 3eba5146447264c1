from django.urls import path

from madoguchi.fans import views

app_name = "fans"
urlpatterns = [
    path("", views.fans_list, name="fans"),
    path("win-back/", views.win_back_list, name="win_back"),
    path("rule/", views.rule_settings, name="rule"),
]
