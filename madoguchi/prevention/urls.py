from django.urls import path

from madoguchi.prevention import views

app_name = "prevention"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.report, name="report"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/pdf/", views.report_pdf, name="report_pdf"),
    path("cases/<int:pk>/root-cause/", views.root_cause, name="root_cause"),
    path("clusters/<int:pk>/root-cause/", views.cluster_root_cause, name="cluster_root_cause"),
]
