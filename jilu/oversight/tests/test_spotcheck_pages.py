"""The spot-check pages (C6.4): who opens them, the draw form's errors, the
review form, redraw and compare, and the API's operations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from conftest import api_auth
from jilu.oversight.models import Finding, SpotCheck
from jilu.oversight.spotcheck_actions import review_item
from jilu.oversight.tests.spotcheck_fixtures import WEEK48, all_pass

pytestmark = pytest.mark.django_db


def _form(tree, **change):
    data = {
        "kind": "recordings",
        "first_day": "2026-11-23",
        "last_day": "2026-11-29",
        "per": "week",
        "per_stratum": "2",
        "units": [str(tree["squad1"].pk)],
        "seed": "",
    }
    data.update(change)
    return data


def test_pages_by_role(client, people, tree, make_recording, draw):
    make_recording("officer", start=WEEK48)
    make_recording("officer_other", start=WEEK48)
    spot = draw(units=("squad3",))
    for who, status in (("officer", 403), ("admin", 403), ("archivist", 403)):
        client.force_login(people[who])
        assert client.get("/oversight/spot-checks/").status_code == status
        assert client.get("/oversight/spot-checks/new/").status_code == 403
        assert client.get(f"/oversight/spot-checks/{spot.pk}/").status_code == status
    client.force_login(people["squad_leader"])
    assert client.get("/oversight/spot-checks/").status_code == 200
    assert client.get("/oversight/spot-checks/new/").status_code == 403
    assert client.get(f"/oversight/spot-checks/{spot.pk}/").status_code == 404  # not their unit
    client.force_login(people["inspector"])
    html = client.get("/oversight/spot-checks/").content.decode()
    assert f'data-spotcheck="{spot.pk}"' in html and 'id="new-spotcheck"' in html


def test_the_form_draws_and_shows_each_error(client, people, tree, make_recording):
    make_recording("officer", start=WEEK48)
    client.force_login(people["inspector"])
    response = client.post("/oversight/spot-checks/new/", _form(tree, per_stratum="0"))
    assert response.status_code == 400
    assert "每层抽取数应在 1 至 50 之间" in response.content.decode()
    response = client.post(
        "/oversight/spot-checks/new/", _form(tree, first_day="2026-11-29", last_day="2026-11-23")
    )
    assert response.status_code == 400 and "这个期间是空的" in response.content.decode()
    response = client.post("/oversight/spot-checks/new/", _form(tree, units=["987654"]))
    assert response.status_code == 400 and "没有这些单位：987654" in response.content.decode()
    assert 'value="2026-11-23"' in response.content.decode()  # nothing typed is lost
    assert not SpotCheck.objects.exists()
    response = client.post("/oversight/spot-checks/new/", _form(tree))
    spot = SpotCheck.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/oversight/spot-checks/{spot.pk}/"
    )


def test_reviewing_completing_and_redrawing_in_the_page(client, people, tree, make_recording):
    rec = make_recording("officer", start=WEEK48)
    client.force_login(people["inspector"])
    client.post("/oversight/spot-checks/new/", _form(tree))
    spot = SpotCheck.objects.get()
    html = client.get(f"/oversight/spot-checks/{spot.pk}/").content.decode()
    play = reverse("evidence:recording_detail", args=[rec.pk])
    assert f'class="play" href="{play}"' in html
    assert 'name="mark-certificate"' in html and "C4.2" in html and "A1" in html
    marks = {f"mark-{c}": v for c, v in {**all_pass(), "identity": "fail"}.items()}
    response = client.post(
        f"/oversight/spot-checks/{spot.pk}/items/1/", {**marks, "note": "未报证号"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#item-1")
    response = client.post(f"/oversight/spot-checks/{spot.pk}/complete/")
    assert response.status_code == 302
    finding = Finding.objects.get()
    assert (finding.rule, finding.clause) == ("spot_identity", "C4.1")
    html = client.get(f"/oversight/spot-checks/{spot.pk}/").content.decode()
    assert 'data-state="completed"' in html and 'name="mark-' not in html
    html = client.post(f"/oversight/spot-checks/{spot.pk}/verify/").content.decode()
    assert 'data-same="true"' in html
    # The finding's fact leads to the item, for those who may read the spot check.
    detail = client.get(f"/oversight/findings/{finding.pk}/").content.decode()
    assert f"/oversight/spot-checks/{spot.pk}/#item-1" in detail
    assert "抽检中检查的声像记录" in detail and f'href="{play}"' in detail
    client.force_login(people["officer"])
    detail = client.get(f"/oversight/findings/{finding.pk}/").content.decode()
    assert "/oversight/spot-checks/" not in detail


def test_a_leader_reads_the_page_but_cannot_review(client, people, make_recording, draw):
    make_recording("officer", start=WEEK48)
    make_recording("officer_other", start=WEEK48 + timedelta(hours=1))
    spot = draw(units=("city",))
    client.force_login(people["squad_leader"])
    html = client.get(f"/oversight/spot-checks/{spot.pk}/").content.decode()
    assert html.count('class="card spot-item"') == 1  # only squad1's item
    assert 'name="mark-' not in html and 'id="complete"' not in html
    position = spot.items.get(officer=people["officer"]).position
    marks = {f"mark-{c}": v for c, v in all_pass().items()}
    client.post(f"/oversight/spot-checks/{spot.pk}/items/{position}/", marks)
    assert not spot.items.filter(reviewed_at__isnull=False).exists()
    assert (
        'data-same="true"'
        in client.post(f"/oversight/spot-checks/{spot.pk}/verify/").content.decode()
    )


# --- API -------------------------------------------------------------------------


def _body(tree, **change):
    body = {
        "kind": "recordings",
        "first_day": "2026-11-23",
        "last_day": "2026-11-29",
        "per": "week",
        "per_stratum": 2,
        "units": [tree["squad1"].pk],
        "seed": "5eed5eed",
    }
    body.update(change)
    return body


def test_api_draw_read_verify_review_complete(client, people, tree, make_recording):
    make_recording("officer", start=WEEK48)
    make_recording("officer", start=WEEK48 + timedelta(hours=1))
    make_recording("officer", start=WEEK48 + timedelta(hours=2))
    auth = api_auth(client, "inspector")
    response = client.post(
        "/api/v1/spot-checks", _body(tree), content_type="application/json", **auth
    )
    assert response.status_code == 201, response.content
    spot = response.json()
    assert spot["seed"] == "5eed5eed" and len(spot["items"]) == 2
    assert spot["query"]["rank"].startswith("ascending hex SHA-256")
    assert [m["code"] for m in spot["items"][0]["marks"]][:3] == ["landmark", "opening", "identity"]
    again = client.post(
        "/api/v1/spot-checks", _body(tree), content_type="application/json", **auth
    ).json()
    assert [i["recording_id"] for i in again["items"]] == [
        i["recording_id"] for i in spot["items"]
    ]  # the same seed, the same sample
    url = f"/api/v1/spot-checks/{spot['id']}"
    verified = client.post(f"{url}/verify", **auth).json()
    assert verified["same"] is True and verified["missing"] == [] and verified["extra"] == []
    marks = [{"code": c, "outcome": v} for c, v in {**all_pass(), "sound": "fail"}.items()]
    for position in (1, 2):
        response = client.post(
            f"{url}/items/{position}/review",
            {"marks": marks, "note": "无声音"},
            content_type="application/json",
            **auth,
        )
        assert response.status_code == 200, response.content
    assert response.json()["score"] == round(100 * 6 / 7, 1)
    response = client.post(f"{url}/complete", **auth)
    assert response.status_code == 200 and response.json()["state"] == "completed"
    assert Finding.objects.get().rule == "spot_sound"
    response = client.post(f"{url}/complete", **auth)
    assert response.status_code == 400 and "已经完成" in response.json()["detail"]
    listed = client.get("/api/v1/spot-checks", **auth).json()
    assert listed["count"] == 2


def test_api_refuses_bad_input_and_other_roles(client, people, tree, make_recording, draw):
    make_recording("officer", start=WEEK48)
    auth = api_auth(client, "inspector")
    for change, status, words in (
        ({"per_stratum": 0}, 422, "per_stratum"),
        ({"per_stratum": 10_000}, 422, "per_stratum"),
        ({"units": []}, 422, "units"),
        ({"units": [987654]}, 400, "没有这些单位：987654"),
        ({"first_day": "2026-11-29", "last_day": "2026-11-23"}, 400, "这个期间是空的"),
        ({"units": [tree["squad2"].pk]}, 400, "没有声像记录"),
        ({"kind": "cases"}, 422, "kind"),
    ):
        response = client.post(
            "/api/v1/spot-checks", _body(tree, **change), content_type="application/json", **auth
        )
        assert response.status_code == status, (change, response.content)
        assert words in response.json()["detail"], response.json()
    officer = api_auth(client, "officer")
    assert client.get("/api/v1/spot-checks", **officer).status_code == 403
    assert (
        client.post(
            "/api/v1/spot-checks", _body(tree), content_type="application/json", **officer
        ).status_code
        == 403
    )
    spot = draw(units=("squad1",))
    leader = api_auth(client, "squad_leader")
    assert client.get(f"/api/v1/spot-checks/{spot.pk}", **leader).status_code == 200
    response = client.post(
        f"/api/v1/spot-checks/{spot.pk}/items/1/review",
        {"marks": [{"code": c, "outcome": v} for c, v in all_pass().items()]},
        content_type="application/json",
        **leader,
    )
    assert response.status_code == 403
    review_item(spot.items.get(), actor=people["inspector"], marks=all_pass())
    assert client.get("/api/v1/spot-checks/999999", **auth).status_code == 404
