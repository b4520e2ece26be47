from django.urls import path

from jilu.ingest import views

app_name = "ingest"
urlpatterns = [
    path("", views.workstation, name="workstation"),
    path("live/", views.live, name="live"),
    path("dockings/<int:pk>/", views.docking_detail, name="docking"),
    path("quarantine/", views.quarantine_list, name="quarantine_list"),
    path("quarantine/<int:pk>/", views.quarantine_detail, name="quarantine_detail"),
    path("due/", views.due, name="due"),
]
