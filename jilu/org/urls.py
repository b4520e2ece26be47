from django.urls import path

from jilu.org import views, views_uploads

app_name = "org"
urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/active/", views.person_set_active, name="person_set_active"),
    path("people/<int:pk>/password/", views.person_password, name="person_password"),
    path("roster/export/", views.roster_export, name="roster_export"),
    path("roster/import/", views.roster_import, name="roster_import"),
    path("roster/import/confirm/", views.roster_confirm, name="roster_confirm"),
    path("roster/import/<int:pk>/", views_uploads.roster_upload, name="roster_upload"),
    path(
        "roster/import/<int:pk>/confirm/",
        views_uploads.roster_upload_confirm,
        name="roster_upload_confirm",
    ),
]
