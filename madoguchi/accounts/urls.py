from django.urls import path

from madoguchi.accounts import inbox_settings, two_factor_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("limits/", views.save_limits, name="save_limits"),
    path("customer-period/", views.save_customer_period, name="save_customer_period"),
    path("categories/", views.add_category, name="add_category"),
    path("audit/", views.settings_audit, name="audit"),
    path("me/", views.my_settings, name="me"),
    path("me/2fa/", two_factor_views.my_two_factor, name="two_factor"),
    path("security/", views.save_security, name="save_security"),
    path("access/", views.access_log_page, name="access_log"),
    path("me/availability/", views.set_availability, name="availability"),
    path("team/", views.team_page, name="team"),
    path("teams/<int:pk>/assignment/", views.save_team_assignment, name="save_team_assignment"),
    path("mailbox/", views.save_mailbox, name="add_mailbox"),
    path("mailbox/<int:pk>/", views.save_mailbox, name="save_mailbox"),
    path("survey/", views.save_survey_delay, name="save_survey_delay"),
    path("dashboard/", views.save_min_sample, name="save_min_sample"),
    path("labels/", inbox_settings.labels_page, name="labels"),
    path("labels/tags/", inbox_settings.tag_add, name="tag_add"),
    path("labels/tags/<int:pk>/delete/", inbox_settings.tag_delete, name="tag_delete"),
    path("labels/fields/", inbox_settings.field_add, name="field_add"),
    path("labels/fields/<int:pk>/", inbox_settings.field_save, name="field_save"),
    path("users/<int:user_id>/unlock/", views.unlock_login, name="unlock"),
]
