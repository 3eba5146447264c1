from django.urls import path

from madoguchi.shop import desk_views

app_name = "shop_desk"
urlpatterns = [
    path("find/", desk_views.find_orders, name="find"),
    path("case/<int:pk>/", desk_views.case_orders, name="case_orders"),
    path("case/<int:pk>/link/<int:order_pk>/", desk_views.case_link, name="case_link"),
    path("case/<int:pk>/unlink/", desk_views.case_unlink, name="case_unlink"),
    path("customer/<int:pk>/", desk_views.customer_orders, name="customer_orders"),
    path("delivery-watch/", desk_views.delivery_watch, name="delivery_watch"),
    path("delivery-watch/<int:order_pk>/contact/", desk_views.delivery_contact, name="delivery_contact"),
]
