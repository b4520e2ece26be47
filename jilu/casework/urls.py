from django.urls import path

from jilu.casework import views

app_name = "casework"
urlpatterns = [
    path("annotate/", views.queue, name="queue"),
    path("annotate/squad/", views.squad_queue, name="squad_queue"),
    path("recordings/<int:pk>/", views.annotation, name="annotation"),
    path("recordings/<int:pk>/annotate/", views.annotate, name="annotate"),
    path(
        "recordings/<int:pk>/new-activity/",
        views.annotate_new_activity,
        name="annotate_new_activity",
    ),
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("cases/<int:pk>/activities/add/", views.case_add_activity, name="case_add_activity"),
    path(
        "cases/<int:pk>/activities/<int:activity_pk>/remove/",
        views.case_remove_activity,
        name="case_remove_activity",
    ),
    path(
        "cases/<int:pk>/activities/<int:activity_pk>/<str:direction>/",
        views.case_move_activity,
        name="case_move_activity",
    ),
    path("powers/", views.power_list, name="power_list"),
    path("powers/import/", views.power_import, name="power_import"),
    path("powers/import/<int:pk>/", views.power_upload, name="power_upload"),
]
