"""Addresses of the pages that combine several apps. Their paths are where
users have always found them (the unit day under ``casework/``)."""

from django.urls import path

from jilu.web import views_unit_day

app_name = "web"
urlpatterns = [
    path("casework/day/", views_unit_day.unit_day, name="unit_day"),
]
