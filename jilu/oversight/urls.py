from django.urls import path

from jilu.oversight import views, views_ledgers, views_reports, views_spotchecks

app_name = "oversight"
urlpatterns = [
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/explain/", views.finding_explain, name="finding_explain"),
    path("findings/<int:pk>/decide/", views.finding_decide, name="finding_decide"),
    path("findings/<int:pk>/attachment/", views.finding_attachment, name="finding_attachment"),
    path("settings/", views.settings_page, name="settings"),
    path("spot-checks/", views_spotchecks.spotcheck_list, name="spotcheck_list"),
    path("spot-checks/new/", views_spotchecks.spotcheck_new, name="spotcheck_new"),
    path("spot-checks/<int:pk>/", views_spotchecks.spotcheck_detail, name="spotcheck_detail"),
    path(
        "spot-checks/<int:pk>/verify/", views_spotchecks.spotcheck_verify, name="spotcheck_verify"
    ),
    path(
        "spot-checks/<int:pk>/complete/",
        views_spotchecks.spotcheck_complete,
        name="spotcheck_complete",
    ),
    path(
        "spot-checks/<int:pk>/items/<int:position>/",
        views_spotchecks.spotcheck_review,
        name="spotcheck_review",
    ),
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
    path("reports/", views_reports.report_list, name="report_list"),
    path("reports/draft/", views_reports.report_draft, name="report_draft"),
    path("reports/<int:pk>/", views_reports.report_detail, name="report_detail"),
    path("reports/<int:pk>/publish/", views_reports.report_publish, name="report_publish"),
    path("reports/<int:pk>/file.<str:fmt>", views_reports.report_file, name="report_file"),
    path(
        "reports/<int:pk>/chart/<str:name>.svg",
        views_reports.report_chart,
        name="report_chart",
    ),
    path("dashboard/", views_reports.dashboard, name="dashboard"),
    path("dashboard/<int:unit>/rates.svg", views_reports.dashboard_chart, name="dashboard_chart"),
    path("dashboard/trend.svg", views_reports.trend_chart, name="trend_chart"),
]
