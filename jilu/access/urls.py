from django.urls import path

from jilu.access import views, views_copies

app_name = "access"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_create, name="create"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/approve/", views.request_approve, name="approve"),
    path("<int:pk>/refuse/", views.request_refuse, name="refuse"),
    path("<int:pk>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<int:pk>/fulfil/", views_copies.request_fulfil, name="fulfil"),
    path("packages/<int:pk>/progress/", views_copies.package_progress, name="package_progress"),
    path("packages/<int:pk>/download/", views_copies.package_download, name="package_download"),
    path(
        "copies/<int:pk>/returned/",
        views_copies.copy_close,
        {"state": "returned"},
        name="copy_returned",
    ),
    path(
        "copies/<int:pk>/destroyed/",
        views_copies.copy_close,
        {"state": "destroyed"},
        name="copy_destroyed",
    ),
    path("identify/", views_copies.identify, name="identify"),
    path("<int:pk>/print/", views.request_print, name="print"),
    path("<int:pk>/pdf/", views.request_pdf, name="pdf"),
]
