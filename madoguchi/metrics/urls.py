from django.urls import URLPattern, URLResolver, path

from madoguchi.metrics import views

app_name = "metrics"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("breakdown/<str:dim>/", views.breakdown, name="breakdown"),
    path("targets/", views.targets_edit, name="targets"),
    path("cases/<int:case_id>/outcome/", views.outcome, name="outcome"),
    path("cases/<int:case_id>/review/", views.review, name="review"),
    path("reviews/", views.reviews, name="reviews"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
    path("survey/<str:token>/", views.survey, name="survey"),
]
