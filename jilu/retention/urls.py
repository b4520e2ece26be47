from django.urls import path

from jilu.retention import views

app_name = "retention"
urlpatterns = [
    path("", views.disposal_list, name="disposal_list"),
    path("dry-run/", views.dry_run, name="dry_run"),
    path("disposals/<int:pk>/", views.disposal_detail, name="disposal_detail"),
    path("disposals/<int:pk>/review/", views.disposal_review, name="disposal_review"),
    path("disposals/<int:pk>/approve/", views.disposal_approve, name="disposal_approve"),
    path("disposals/<int:pk>/refuse/", views.disposal_refuse, name="disposal_refuse"),
    path("disposals/<int:pk>/print.<str:fmt>", views.disposal_print, name="disposal_print"),
    path("holds/", views.hold_list, name="hold_list"),
    path("holds/new/", views.hold_create, name="hold_create"),
    path("holds/<int:pk>/", views.hold_detail, name="hold_detail"),
    path("holds/<int:pk>/release/", views.hold_release, name="hold_release"),
]
