from django.urls import path

from madoguchi.shop import views

app_name = "shop"
urlpatterns = [
    path("import/", views.import_page, name="import_orders"),
    path("import/<int:pk>/", views.import_run, name="import_run"),
    path("sync/", views.sync_page, name="sync"),
    path("sync/<str:platform>/", views.sync_now, name="sync_now"),
]
