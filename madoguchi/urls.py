from importlib.metadata import version

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils import timezone
from django.views.decorators.cache import cache_page
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog

from madoguchi.accounts.two_factor_views import DeskLoginView, login_second_step
from madoguchi.api.api import api, not_found
from madoguchi.health import healthz

# The JavaScript catalogue changes only with a release: cached per language and version, and
# browsers revalidate it against the time this process started.
STARTED = timezone.now()
javascript_catalog = cache_page(86400, key_prefix=f"jsi18n-{version('madoguchi')}")(
    last_modified(lambda request: STARTED)(JavaScriptCatalog.as_view())
)

handler500 = "madoguchi.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("login/", DeskLoginView.as_view(), name="login"),
    path("login/2fa/", login_second_step, name="login_2fa"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", javascript_catalog, name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", not_found),
    path("settings/me/api/", include("madoguchi.api.urls_tokens")),
    path("settings/webhooks/", include("madoguchi.api.urls_webhooks")),
    path("settings/jobs/", include("madoguchi.jobs.urls")),
    path("settings/orders/base/", include("madoguchi.base_shop.urls")),
    path("settings/orders/", include("madoguchi.shop.urls")),
    path("shopify/", include("madoguchi.shopify.urls")),
    path("settings/", include("madoguchi.accounts.urls")),
    path("settings/", include("madoguchi.shopsettings.urls")),
    path("customers/", include("madoguchi.customers.urls")),
    path("orders/", include("madoguchi.shop.desk_urls")),
    path("privacy/", include("madoguchi.privacy.urls")),
    path("exports/", include("madoguchi.exports.urls")),
    path("notifications/", include("madoguchi.notifications.urls")),
    path("mail/", include("madoguchi.mail.urls")),
    path("chat/", include("madoguchi.chat.urls")),
    path("line/", include("madoguchi.line.urls")),
    path("x/", include("madoguchi.x_account.urls")),
    path("knowledge/", include("madoguchi.knowledge.urls")),
    path("faq/", include("madoguchi.knowledge.faq_urls")),
    path("metrics/", include("madoguchi.metrics.urls")),
    path("patterns/", include("madoguchi.patterns.urls")),
    path("fans/", include("madoguchi.fans.urls")),
    path("listening/", include("madoguchi.listening.urls")),
    path("coupons/", include("madoguchi.coupons.urls")),
    path("", include("madoguchi.progress.urls")),
    path("prevention/", include("madoguchi.prevention.urls")),
    path("", include("madoguchi.cases.urls")),
]
