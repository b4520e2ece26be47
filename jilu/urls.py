from django.urls import include, path

from jilu import views
from jilu.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("password/", views.PasswordChange.as_view(), name="password_change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("jilu.org.urls")),
    path("devices/", include("jilu.devices.urls")),
    path("audit/", include("jilu.web.urls_audit")),
    path("ingest/", include("jilu.ingest.urls")),
    path("tasks/", include("jilu.evidence.task_urls")),
    path("recordings/", include("jilu.web.urls_recordings")),
    path("", include("jilu.web.urls")),
    path("casework/docs/", include("jilu.casework.urls_documents")),
    path("casework/", include("jilu.casework.urls")),
    path("transfer/", include("jilu.transfer.urls")),
    path("access/", include("jilu.access.urls")),
    path("dutylog/", include("jilu.dutylog.urls")),
    path("retention/", include("jilu.retention.urls")),
    path("oversight/", include("jilu.oversight.urls")),
    path("api/v1/uploads/", include("jilu.ingest.tus_urls")),
    path("api/v1/", api.urls),
]

# A store, database or queue outage outside a view is a 503 too (jilu/outage.py).
handler404 = "jilu.errors.page_not_found"
handler500 = "jilu.outage.server_error"
