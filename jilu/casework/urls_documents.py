"""The AV record list (A2) and opening scripts (A1), mounted at /casework/docs/."""

from django.urls import path

from jilu.casework import views_documents as views

app_name = "casework_docs"

urlpatterns = [
    path("cases/<int:pk>/recordlist/", views.record_list, name="record_list"),
    path("cases/<int:pk>/recordlist/move/", views.record_list_move, name="record_list_move"),
    path("cases/<int:pk>/recordlist.pdf", views.record_list_pdf, name="record_list_pdf"),
    path("cases/<int:pk>/recordlist.xlsx", views.record_list_xlsx, name="record_list_xlsx"),
    path("activities/<int:pk>/script/", views.script_page, name="script"),
    path("activities/<int:pk>/script/card/", views.script_card, name="script_card"),
    path("activities/<int:pk>/script/card.pdf", views.script_card_pdf, name="script_card_pdf"),
]
