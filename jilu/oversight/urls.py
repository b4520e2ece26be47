from django.urls import path

from jilu.oversight import views_ledgers

app_name = "oversight"
urlpatterns: list = []

urlpatterns += [
    path("ledgers/", views_ledgers.ledger_page, name="ledgers"),
    path(
        "ledgers/<int:unit>/<int:year>-<int:month>.pdf", views_ledgers.ledger_pdf, name="ledger_pdf"
    ),
    path(
        "ledgers/<int:unit>/<int:year>-<int:month>.xlsx",
        views_ledgers.ledger_xlsx,
        name="ledger_xlsx",
    ),
    path(
        "ledgers/<int:unit>/<int:year>-<int:month>/confirm/",
        views_ledgers.ledger_confirm,
        name="ledger_confirm",
    ),
]
