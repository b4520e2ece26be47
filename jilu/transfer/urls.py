from django.urls import path

from jilu.transfer import views

app_name = "transfer"
urlpatterns = [
    path("cases/<int:pk>/", views.case_packages, name="case_packages"),
    path("cases/<int:pk>/build/", views.package_build, name="package_build"),
    path("packages/<int:pk>/progress/", views.package_progress, name="package_progress"),
    path("packages/<int:pk>/transfer/", views.package_transfer, name="package_transfer"),
    path("packages/<int:pk>/discs/<int:number>/iso/", views.disc_download, name="disc_download"),
    path("packages/<int:pk>/labels.txt", views.package_label_sheet, name="package_labels"),
    path("reviews/", views.review_queue, name="review_queue"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/verify/", views.review_verify, name="review_verify"),
    path("reviews/<int:pk>/upload/", views.review_upload, name="review_upload"),
    path("reviews/<int:pk>/marks/", views.review_mark, name="review_mark"),
    path("reviews/<int:pk>/decide/", views.review_decide, name="review_decide"),
]
