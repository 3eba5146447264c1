from django.urls import path

from madoguchi.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.status_page, name="status"),
]
