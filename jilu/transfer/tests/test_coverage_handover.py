"""Coverage in the review and before the hand-over (C2.1, C4.3, C5.5).

The reviewer sees every activity of the case with its coverage, also one that
no record-list row comes from (recorded at 0 %); the handler is told which
activities are not recorded in full before handing the package over, may hand
it over anyway, and the warning is kept in the hand-over's audit row.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from jilu.audit.models import AuditEntry
from jilu.casework.models import Case
from jilu.casework.tests.conftest import _file_store, party, recorders  # noqa: F401
from jilu.casework.tests.documents_data import T0, activity, build_case
from jilu.transfer import actions, queries
from jilu.transfer.models import Package, Review

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def data(people, tree, recorders, party, settings, tmp_path):  # noqa: F811
    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    out = build_case(people, tree, recorders, party)
    # A fourth activity of the case that nobody recorded (C2.1): no row, 0 %.
    out["unrecorded"] = activity(
        people, tree, party, kind="S5", start=T0 + timedelta(days=3), case=out["case"]
    )
    return out


def _built(people, case, capture) -> Package:
    with capture(execute=True):
        package = actions.request_package(actor=people["case_handler"], case=case)
    package.refresh_from_db()
    assert package.state == Package.State.READY, package.error
    return package


def _transfer_entry() -> AuditEntry:
    return AuditEntry.objects.filter(action="transfer.case.transfer").get()


def test_case_coverage_lists_an_activity_recorded_at_zero_percent(data):
    """C2.1: the activity with no recording is listed, at 0 %, in case order."""
    listed = queries.case_activity_coverage(data["case"])
    assert [ag.activity for ag in listed] == [*data["activities"], data["unrecorded"]]
    last = listed[-1]
    assert (last.status, last.percent) == ("none", 0)
    assert last.label == "无任何声像记录（C2.1）"
    a1 = listed[0]
    assert a1.status == "gaps" and a1.percent == 33 and a1.gaps == ["09:20:00–10:00:00"]
    warned = {ag.activity.pk: ag.status for ag in queries.coverage_warnings(data["case"])}
    assert warned[data["unrecorded"].pk] == "none"
    assert warned[data["activities"][0].pk] == "gaps"


def test_review_page_lists_every_activity_of_the_case(
    data, people, client, django_capture_on_commit_callbacks
):
    """C4.3, C2.1: the review lists the activity without rows, not only those with files."""
    package = _built(people, data["case"], django_capture_on_commit_callbacks)
    review = actions.transfer_case(
        actor=people["case_handler"], package=package, coverage_acknowledged=True
    ).review
    rows, activities = queries.review_rows_and_activities(review)
    assert len(rows) == 5
    by_pk = {ag.activity.pk: ag for ag in activities}
    assert set(by_pk) == {a.pk for a in [*data["activities"], data["unrecorded"]]}
    assert by_pk[data["unrecorded"].pk].rows == []
    assert by_pk[data["unrecorded"].pk].percent == 0
    assert by_pk[data["activities"][0].pk].rows == [1, 2, 3]

    client.force_login(people["legal_reviewer"])
    body = client.get(reverse("transfer:review_detail", args=[review.pk])).content.decode()
    section = body[body.index('id="activity-coverage"') :].split("</section>")[0]
    item = section.split(f'data-activity="{data["unrecorded"].pk}"')[1].split("</li>")[0]
    assert 'data-status="none"' in section
    assert "无任何声像记录（C2.1）" in item and "覆盖 0%" in item
    assert "清单中没有本活动的记录" in item


def test_handover_warns_first_and_records_the_warning(
    data, people, client, django_capture_on_commit_callbacks
):
    """The handler sees the activities not recorded in full before the hand-over;
    without confirming them nothing is handed over; confirmed, the case goes to
    legal and the audit row keeps what was warned (C2.1, C4.3, C5.5)."""
    case = data["case"]
    package = _built(people, case, django_capture_on_commit_callbacks)
    client.force_login(people["case_handler"])
    page = reverse("transfer:case_packages", args=[case.pk])
    body = client.get(page).content.decode()
    warning = body[body.index('id="coverage-warning"') :].split("</div>\n  </div>")[0]
    assert f'data-activity="{data["unrecorded"].pk}" data-status="none"' in warning
    assert f'data-activity="{data["activities"][0].pk}" data-status="gaps"' in warning
    assert "09:20:00–10:00:00" in warning and "覆盖 0%" in warning
    assert "覆盖 50%" in warning  # activity 2: 30 of its 60 minutes
    assert body.index('id="coverage-warning"') < body.index('id="transfer-form"')
    assert 'name="coverage_ack"' in body

    url = reverse("transfer:package_transfer", args=[package.pk])
    response = client.post(url, {"note": "请审核"}, follow=True)
    assert "未全程录制：请核对下方提示，勾选确认后再移送" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and not Review.objects.exists()

    client.post(url, {"note": "请审核", "coverage_ack": "on"})
    case.refresh_from_db()
    assert case.status == Case.Status.TRANSFERRED
    details = _transfer_entry().details
    assert details["coverage_acknowledged"] is True
    warned = {w["activity"]: w for w in details["coverage_warnings"]}
    assert warned[data["unrecorded"].pk]["status"] == "none"
    assert warned[data["unrecorded"].pk]["percent"] == 0
    assert warned[data["activities"][0].pk]["gaps"] == ["09:20:00–10:00:00"]
    assert set(warned) == {a.pk for a in [*data["activities"], data["unrecorded"]]}


def test_handover_without_confirmation_elsewhere_still_keeps_the_warning(
    data, people, django_capture_on_commit_callbacks
):
    """The action does not refuse (the API hands over too); the audit row says it was unconfirmed."""
    package = _built(people, data["case"], django_capture_on_commit_callbacks)
    transfer = actions.transfer_case(actor=people["case_handler"], package=package)
    assert transfer.review.decision == Review.Decision.PENDING
    details = _transfer_entry().details
    assert details["coverage_acknowledged"] is False
    assert data["unrecorded"].pk in {w["activity"] for w in details["coverage_warnings"]}


def test_a_case_recorded_in_full_is_handed_over_without_a_warning(
    people,
    tree,
    recorders,  # noqa: F811
    party,  # noqa: F811
    client,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    from jilu.casework import actions as casework
    from jilu.casework.tests.documents_data import recording

    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    case = casework.create_case(
        actor="system:test",
        number="思城执罚〔2026〕13号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=party,
    )
    act = activity(people, tree, party, kind="S1", start=T0, case=case)
    for holder, seq in (("officer", 1), ("officer_b", 2)):
        rec = recording(recorders[holder], people[holder], start=T0, minutes=60, seq=seq)
        casework.annotate(actor=people[holder], recording=rec, activity=act, step="site_survey")
    assert queries.coverage_warnings(case) == []
    package = _built(people, case, django_capture_on_commit_callbacks)
    client.force_login(people["case_handler"])
    body = client.get(reverse("transfer:case_packages", args=[case.pk])).content.decode()
    assert 'id="transfer-form"' in body
    assert 'id="coverage-warning"' not in body and 'name="coverage_ack"' not in body
    client.post(reverse("transfer:package_transfer", args=[package.pk]), {"note": ""})
    case.refresh_from_db()
    assert case.status == Case.Status.TRANSFERRED
    details = _transfer_entry().details
    assert details["coverage_warnings"] == [] and details["coverage_acknowledged"] is False
