from django.urls import path

from madoguchi.knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("", views.article_list, name="articles"),
    path("search/", views.search_view, name="search"),
    path("articles/new/", views.article_edit, name="article_new"),
    path("articles/<int:pk>/", views.article_detail, name="article"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("cases/<int:pk>/manual/", views.manual_from_case, name="manual_from_case"),
    path("cases/<int:pk>/hints/", views.reply_hints, name="reply_hints"),
    path("cases/<int:pk>/reply-tools/", views.case_reply_tools, name="case_reply_tools"),
    path("cases/<int:pk>/suggestions/", views.case_suggestions, name="case_suggestions"),
    path("cases/<int:pk>/flag/", views.flag_customer, name="flag_customer"),
    path("flags/<int:pk>/clear/", views.clear_flag, name="clear_flag"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_new"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/<int:pk>/", views.rule_detail, name="rule"),
]
