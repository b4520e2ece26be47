from django.urls import path

from jilu.devices import views

app_name = "devices"
urlpatterns = [
    path("mine/", views.my_recorders, name="my_recorders"),
    path("mine/<str:serial>/check/", views.my_check, name="my_check"),
    path("mine/<str:serial>/incident/", views.my_incident, name="my_incident"),
    path("recorders/", views.recorder_list, name="recorder_list"),
    path("recorders/new/", views.recorder_create, name="recorder_create"),
    path("recorders/<str:serial>/", views.recorder_detail, name="recorder_detail"),
    path("recorders/<str:serial>/issue/", views.recorder_issue, name="recorder_issue"),
    path("recorders/<str:serial>/return/", views.recorder_return, name="recorder_return"),
    path("recorders/<str:serial>/status/", views.recorder_status, name="recorder_status"),
    path("recorders/<str:serial>/check/", views.recorder_check, name="recorder_check"),
    path("recorders/<str:serial>/incident/", views.recorder_incident, name="recorder_incident"),
    path("workstations/", views.workstation_list, name="workstation_list"),
    path("workstations/new/", views.workstation_create, name="workstation_create"),
    path("workstations/<int:pk>/", views.workstation_detail, name="workstation_detail"),
    path("workstations/<int:pk>/revoke/", views.workstation_revoke, name="workstation_revoke"),
    path("workstations/<int:pk>/reissue/", views.workstation_reissue, name="workstation_reissue"),
    path("gaps/", views.gaps, name="gaps"),
]
