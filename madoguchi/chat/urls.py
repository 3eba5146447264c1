from django.urls import path

from madoguchi.chat import public_views, views

app_name = "chat"
urlpatterns = [
    path("", views.chat_list, name="list"),
    path("<int:pk>/take/", views.take, name="take"),
    path("<int:pk>/transfer/", views.transfer, name="transfer"),
    path("<int:pk>/end/", views.end, name="end"),
    path("widget.js", public_views.widget_js, name="widget_js"),
    path("widget/upload/", public_views.widget_upload, name="widget_upload"),
    path("widget/offline/", public_views.widget_offline, name="widget_offline"),
    path("widget/files/<int:upload_id>/", public_views.widget_file, name="widget_file"),
    path("attachments/<int:attachment_id>/", public_views.form_attachment, name="form_attachment"),
    path("forms/contact/", public_views.contact_form, name="contact_form"),
    path("forms/feedback/", public_views.feedback_form, name="feedback_form"),
]
