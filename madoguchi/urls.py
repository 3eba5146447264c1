from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("settings/", include("madoguchi.accounts.urls")),
    path("customers/", include("madoguchi.customers.urls")),
    path("notifications/", include("madoguchi.notifications.urls")),
    path("mail/", include("madoguchi.mail.urls")),
    path("chat/", include("madoguchi.chat.urls")),
    path("knowledge/", include("madoguchi.knowledge.urls")),
    path("faq/", include("madoguchi.knowledge.faq_urls")),
    path("metrics/", include("madoguchi.metrics.urls")),
    path("", include("madoguchi.cases.urls")),
]
