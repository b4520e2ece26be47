from django.urls import path

from jilu.dutylog import views

app_name = "dutylog"
urlpatterns = [
    path("", views.note_list, name="list"),
    path("new/", views.note_create, name="create"),
    path("<int:pk>/", views.note_detail, name="detail"),
    path("<int:pk>/edit/", views.note_edit, name="edit"),
    path("<int:pk>/confirm/", views.note_confirm, name="confirm"),
    path("<int:pk>/return/", views.note_return, name="return"),
]
