from django.urls import path

from madoguchi.customers import views

app_name = "customers"
urlpatterns = [
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/merge/", views.customer_merge, name="merge"),
]
