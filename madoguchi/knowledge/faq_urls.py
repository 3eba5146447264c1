"""Public pages (no login): included at /faq/ from madoguchi/urls.py."""

from django.urls import path

from madoguchi.knowledge import faq

app_name = "faq"
urlpatterns = [
    path("", faq.faq_index, name="index"),
    path("policy/", faq.policy, name="policy"),
    path("<int:pk>/", faq.faq_article, name="article"),
    path("<int:pk>/feedback/", faq.faq_feedback, name="feedback"),
]
