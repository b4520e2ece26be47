from django.urls import path

from jilu.devices import views

app_name = "devices"
urlpatterns = [
    path("mine/", views.my_recorders, name="my_recorders"),
    path("recorders/", views.recorder_list, name="recorder_list"),
    path("workstations/", views.workstation_list, name="workstation_list"),
    path("gaps/", views.gaps, name="gaps"),
]
