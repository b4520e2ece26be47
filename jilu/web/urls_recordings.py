from django.urls import path

from jilu.evidence import views
from jilu.web import views_recordings, views_timeline

# The recordings' addresses keep evidence's namespace; the pages that combine
# apps (the recording page, the day timelines) are the top layer's.
app_name = "evidence"
urlpatterns = [
    path("", views.recording_list, name="recording_list"),
    path("<int:pk>/", views_recordings.recording_detail, name="recording_detail"),
    path("<int:pk>/play/", views.recording_play, name="recording_play"),
    path("<int:pk>/download/", views.recording_download, name="recording_download"),
    path("<int:pk>/derived/<str:kind>/", views.recording_derived, name="recording_derived"),
    path(
        "timeline/officer/<int:pk>/<str:day>/",
        views_timeline.timeline_officer,
        name="timeline_officer",
    ),
    path(
        "timeline/recorder/<str:serial>/<str:day>/",
        views_timeline.timeline_recorder,
        name="timeline_recorder",
    ),
    path("fixity/alarms/", views.alarm_list, name="alarm_list"),
    path("fixity/alarms/<int:pk>/acknowledge/", views.alarm_acknowledge, name="alarm_acknowledge"),
]
