from django.urls import path

from madoguchi.shop import desk_views, views

app_name = "shop"
urlpatterns = [
    path("import/", views.import_page, name="import_orders"),
    path("import/<int:pk>/", views.import_run, name="import_run"),
    path("sync/", views.sync_page, name="sync"),
    path("sync/<str:platform>/", views.sync_now, name="sync_now"),
    path("carriers/", desk_views.carriers, name="carriers"),
    path("carriers/add/", desk_views.carrier_add, name="carrier_add"),
    path("carriers/<int:pk>/delete/", desk_views.carrier_delete, name="carrier_delete"),
    path("carriers/days/", desk_views.days_save, name="days_save"),
    path("carriers/days/<int:pk>/delete/", desk_views.days_delete, name="days_delete"),
]
