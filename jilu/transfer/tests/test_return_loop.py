"""The reviewer's reasons reach the handler (C5.5, C5.4).

A case returned for correction (退回补正) is open again; the reviewer's note
and the per-row marks are on the case page, on the package page and in the
case API until the handler re-submits a new version.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import api_auth
from jilu.casework.models import Case
from jilu.casework.review_hook import latest_review
from jilu.casework.tests.conftest import _file_store, party, recorders  # noqa: F401
from jilu.casework.tests.documents_data import build_case
from jilu.transfer import actions, queries
from jilu.transfer.models import Package

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
NOTE = "询问笔录缺告知部分，请补正后重新移送"
REASON = "询问笔录开头未录制告知内容"


@pytest.fixture
def data(people, tree, recorders, party, settings, tmp_path):  # noqa: F811
    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    return build_case(people, tree, recorders, party)


def _hand_over(people, case, capture):
    with capture(execute=True):
        package = actions.request_package(actor=people["case_handler"], case=case)
    package.refresh_from_db()
    assert package.state == Package.State.READY, package.error
    return actions.transfer_case(
        actor=people["case_handler"], package=package, coverage_acknowledged=True
    )


@pytest.fixture
def returned(data, people, django_capture_on_commit_callbacks):
    transfer = _hand_over(people, data["case"], django_capture_on_commit_callbacks)
    reviewer = people["legal_reviewer"]
    for no in (1, 2, 3, 5):
        actions.mark_row(actor=reviewer, review=transfer.review, list_no=no, verdict="ok")
    actions.mark_row(
        actor=reviewer, review=transfer.review, list_no=4, verdict="problem", reason=REASON
    )
    actions.decide(actor=reviewer, review=transfer.review, decision="returned", note=NOTE)
    data["case"].refresh_from_db()
    return transfer.review


def test_case_page_shows_the_return_note_and_row_marks(data, returned, client, people):
    case = data["case"]
    assert case.status == Case.Status.OPEN
    client.force_login(people["case_handler"])
    body = client.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    card = body[body.index('id="review-returned"') :].split("</section>")[0]
    assert "法制审核退回补正" in card and NOTE in card
    fourth = data["recordings"][3]
    row = card.split('data-no="4"')[1].split("</tr>")[0]
    assert REASON in row
    assert f'href="{reverse("casework:annotation", args=[fourth.pk])}"' in row
    assert 'data-no="1"' not in card  # rows marked ok are not reasons
    assert reverse("transfer:case_packages", args=[case.pk]) in card
    # An officer of the case's activities may read the case, and the reasons.
    client.force_login(people["officer"])
    body = client.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert NOTE in body and REASON in body


def test_package_page_shows_the_reasons_with_links_and_the_history(data, returned, client, people):
    case = data["case"]
    client.force_login(people["case_handler"])
    body = client.get(reverse("transfer:case_packages", args=[case.pk])).content.decode()
    assert f'<span id="return-note">{NOTE}</span>' in body
    reasons = body[body.index('id="return-reasons"') :].split("</table>")[0]
    assert REASON in reasons
    assert reverse("casework:annotation", args=[data["recordings"][3].pk]) in reasons
    history = body[body.index('id="transfers"') :].split("</table>")[0]
    assert "退回补正" in history and NOTE in history


def test_api_case_detail_has_the_latest_review_decision(data, returned, client, people):
    case = data["case"]
    headers = api_auth(client, "case_handler")
    got = client.get(f"/api/v1/cases/{case.pk}", **headers).json()["latest_review"]
    assert got["review_id"] == returned.pk
    assert (got["decision"], got["note"], got["resubmitted"]) == ("returned", NOTE, False)
    assert got["reviewer"] == people["legal_reviewer"].name and got["package_version"] == 1
    marks = {m["list_no"]: m for m in got["marks"]}
    assert sorted(marks) == [1, 2, 3, 4, 5]
    assert marks[4]["verdict"] == "problem" and marks[4]["reason"] == REASON
    assert marks[4]["recording_id"] == data["recordings"][3].pk
    assert marks[1] == {**marks[1], "verdict": "ok", "reason": ""}
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schema["ReviewDecisionOut"]["properties"]["decision"]["enum"] == [
        "accepted",
        "returned",
    ]
    assert "latest_review" in schema["CaseDetailOut"]["properties"]


def test_api_case_detail_without_a_review_is_null(data, client, people):
    headers = api_auth(client, "case_handler")
    got = client.get(f"/api/v1/cases/{data['case'].pk}", **headers).json()
    assert got["latest_review"] is None


def test_resubmission_moves_the_return_out_of_the_way(
    data, returned, client, people, django_capture_on_commit_callbacks
):
    """After the handler re-submits, the case is no longer waiting on them; the
    return stays readable as history, folded, and the reviewer has the new version."""
    case = data["case"]
    handler = people["case_handler"]
    assert list(queries.returned_cases(handler)) == [case]
    again = _hand_over(people, case, django_capture_on_commit_callbacks)
    assert again.package.version == 2
    assert list(queries.returned_cases(handler)) == []
    decision = latest_review(case)
    assert decision.returned and decision.resubmitted
    client.force_login(handler)
    body = client.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert '<details class="card" id="review-returned">' in body and NOTE in body
    assert list(queries.review_queue(people["legal_reviewer"])) == [again.review]


def test_returned_cases_are_the_handlers_own(data, returned, people, make_person):
    assert list(queries.returned_cases(people["case_handler"])) == [data["case"]]
    other = make_person("handler_b", unit="brigade", roles=("case_handler",))
    assert list(queries.returned_cases(other)) == []
    assert list(queries.returned_cases(people["legal_reviewer"])) == []
