from django.urls import path

from madoguchi.coupons import views

app_name = "coupons"
urlpatterns = [
    path("case/<int:pk>/", views.case_panel, name="case_panel"),
    path("case/<int:pk>/issue/", views.issue, name="issue"),
    path("<int:pk>/platform-retry/", views.retry_platform, name="retry_platform"),
]
