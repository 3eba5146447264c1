from django.urls import path

from madoguchi.listening import views

app_name = "listening"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/answered/", views.answered, name="answered"),
    path("<int:pk>/case/", views.turn_into_case, name="case"),
    path("<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("<int:pk>/kind/", views.set_kind, name="kind"),
    path("dismiss-noise/", views.dismiss_noise, name="dismiss_noise"),
    path("spikes/<int:pk>/seen/", views.spike_seen, name="spike_seen"),
    path("import/", views.import_page, name="import"),
    path("import/<int:pk>/", views.import_run, name="import_run"),
]
