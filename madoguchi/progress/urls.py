from django.urls import path, re_path

from madoguchi.progress import views

app_name = "progress"
urlpatterns = [
    # The customer's page: any token reaches the view, so a wrong one gets the customer's 404.
    re_path(r"^status/(?P<token>[^/]{1,200})/$", views.status_page, name="page"),
    path("progress/notices/", views.notices, name="notices"),
    path("progress/cases/<int:pk>/link/", views.link_make, name="link_make"),
    path("progress/cases/<int:pk>/link/revoke/", views.link_revoke, name="link_revoke"),
    path("progress/notices/<int:notice_id>/send/", views.notice_send, name="notice_send"),
    path("progress/notices/<int:notice_id>/dismiss/", views.notice_dismiss, name="notice_dismiss"),
]
