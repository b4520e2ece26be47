"""tus 1.0 uploads at /api/v1/uploads/ (plain Django views: the body is streamed, never buffered)."""

from django.urls import path

from jilu.ingest import tus

app_name = "tus"
urlpatterns = [
    path("", tus.uploads, name="uploads"),
    path("<uuid:upload_id>", tus.upload, name="upload"),
]
