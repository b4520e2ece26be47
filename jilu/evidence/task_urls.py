"""Background task state for administrators; mounted at ``/tasks/``."""

from django.urls import path

from jilu.evidence import task_views

app_name = "tasks"

urlpatterns = [
    path("", task_views.task_list, name="list"),
    path("requeue/<int:recording_id>/", task_views.requeue, name="requeue"),
]
