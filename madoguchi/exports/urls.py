from django.urls import path

from madoguchi.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.index, name="index"),
    path("cases/<int:pk>/print/", views.case_print, name="case_print"),
    path("cases/<int:pk>/pdf/", views.case_pdf, name="case_pdf"),
    path("<slug:code>/", views.list_view, name="list"),
    path("<slug:code>/csv/", views.csv_view, name="csv"),
]
