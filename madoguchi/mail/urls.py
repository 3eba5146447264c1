from django.urls import URLPattern, URLResolver

app_name = "mail"
urlpatterns: list[URLPattern | URLResolver] = []
