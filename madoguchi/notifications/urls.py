from django.urls import path

from madoguchi.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.mark_read, name="mark_read"),
    path("mail/", views.save_mail_preferences, name="mail_preferences"),
]
