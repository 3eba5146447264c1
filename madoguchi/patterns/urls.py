from django.urls import URLPattern, URLResolver, path

from madoguchi.patterns import views

app_name = "patterns"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.cluster_list, name="list"),
    path("<int:pk>/", views.cluster_page, name="cluster"),
    path("breakdown/<str:dim>/", views.breakdown, name="breakdown"),
]
