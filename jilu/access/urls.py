from django.urls import path

from jilu.access import views

app_name = "access"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_create, name="create"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/approve/", views.request_approve, name="approve"),
    path("<int:pk>/refuse/", views.request_refuse, name="refuse"),
    path("<int:pk>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<int:pk>/provide/", views.request_provide, name="provide"),
    path("<int:pk>/print/", views.request_print, name="print"),
    path("<int:pk>/pdf/", views.request_pdf, name="pdf"),
]
