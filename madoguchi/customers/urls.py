from django.urls import path

from madoguchi.customers import views

app_name = "customers"
urlpatterns = [
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/merge/", views.customer_merge, name="merge"),
    path("<int:pk>/identities/", views.add_identity, name="add_identity"),
    path("<int:pk>/name/", views.confirm_name, name="confirm_name"),
    path("same-person/<int:pk>/confirm/", views.confirm_same_person, name="confirm_same_person"),
    path("same-person/<int:pk>/dismiss/", views.dismiss_same_person, name="dismiss_same_person"),
]
