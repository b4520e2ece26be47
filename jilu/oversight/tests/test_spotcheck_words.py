"""What a spot check says in words (C6.4): a failed checklist item becomes a
finding named by what was wrong ("抽检不符合：未口述开场内容"), never by the
checklist's passing words, wherever rule labels are shown; and the sampling
rule reads in the reader's language, with the stored query kept as the
machine-readable record."""

from __future__ import annotations

import html as htmllib
import json

import pytest
from django.utils import translation

from conftest import api_auth
from jilu.oversight import rules
from jilu.oversight import spotcheck_sample as sampling
from jilu.oversight.models import Finding
from jilu.oversight.spotcheck_actions import complete_spot_check, review_item
from jilu.oversight.spotcheck_checklist import ITEMS
from jilu.oversight.tests.spotcheck_fixtures import WEEK48, all_pass

pytestmark = pytest.mark.django_db


def test_every_spot_rule_is_named_by_its_breach():
    for item in ITEMS.values():
        info = rules.RULES[item.rule]
        label = str(info.label)
        assert label.startswith("抽检不符合：") and label != str(item.label), item.code
        assert str(item.text) in str(info.text)  # the requirement missed
        assert info.clauses == item.clauses
    assert rules.label("spot_opening") == "抽检不符合：未口述开场内容"
    assert rules.label("spot_certificate") == "抽检不符合：未向当事人出示执法证件"
    with translation.override("en"):
        for item in ITEMS.values():
            label = str(rules.RULES[item.rule].label)
            assert label.startswith("Spot check failed: "), (item.code, label)
        assert rules.label("spot_opening") == (
            "Spot check failed: the opening statement was not said"
        )


@pytest.fixture
def failed(client, people, make_recording, draw):
    """A completed spot check whose only item failed "opening" and "certificate"."""
    make_recording("officer", start=WEEK48)
    spot = draw(per_stratum=1)
    item = spot.items.get()
    marks = {**all_pass(), "opening": "fail", "certificate": "fail"}
    review_item(item, actor=people["inspector"], marks=marks, note="未口述，未出示证件")
    return complete_spot_check(spot, actor=people["inspector"])


def test_findings_api_and_pages_read_as_breaches(client, people, failed):
    inspector = api_auth(client, "inspector")
    body = client.get("/api/v1/findings", **inspector).json()
    labels = {f["rule"]: f["rule_label"] for f in body["items"]}
    assert labels == {
        "spot_opening": "抽检不符合：未口述开场内容",
        "spot_certificate": "抽检不符合：未向当事人出示执法证件",
    }
    client.force_login(people["inspector"])
    listing = client.get("/oversight/findings/").content.decode()
    # Neither the rows nor the rule drop-down use the passing words.
    for passing in ("口述了开场内容", "向当事人出示了执法证件", "拍摄了点位的显著标志"):
        assert passing not in listing
    assert "C4.1 抽检不符合：未口述开场内容" in listing  # the drop-down's option
    opening = Finding.objects.get(rule="spot_opening")
    detail = client.get(f"/oversight/findings/{opening.pk}/").content.decode()
    assert "<h1>抽检不符合：未口述开场内容" in detail
    assert "督察抽检时判定这一项不符合。要求：开始拍摄时口述日期和时间" in detail
    # The officer reads the same on their own page.
    client.force_login(people["officer"])
    mine = client.get(f"/oversight/findings/{opening.pk}/").content.decode()
    assert "抽检不符合：未口述开场内容" in mine and "口述了开场内容" not in mine


def test_the_review_form_keeps_the_checklists_words(client, people, make_recording, draw):
    make_recording("officer", start=WEEK48)
    spot = draw(per_stratum=1)
    client.force_login(people["inspector"])
    html = client.get(f"/oversight/spot-checks/{spot.pk}/").content.decode()
    assert "口述了开场内容" in html and "向当事人出示了执法证件" in html
    assert "抽检不符合" not in html


def test_the_sampling_rule_is_in_words_and_the_query_kept(client, people, make_recording, draw):
    make_recording("officer", start=WEEK48)
    spot = draw(per_stratum=3)
    client.force_login(people["inspector"])
    html = client.get(f"/oversight/spot-checks/{spot.pk}/").content.decode()
    rule = html.split('id="sampling-rule"')[1].split("</dd>")[0]
    assert "按每周（周一至周日）分层" in rule
    assert "执法人员或记录仪属于该中队" in rule and "每层抽取排在最前的 3 个" in rule
    assert "started_at" not in rule and "recordings whose" not in rule  # no English here
    query = html.split('id="sampling-query"')[1].split("</details>")[0]
    assert "抽取查询（可复核）" in query
    stored = json.loads(htmllib.unescape(query.split("<code>")[1].split("</code>")[0]))
    assert stored == spot.query  # the machine-readable record, whole

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(f"/oversight/spot-checks/{spot.pk}/").content.decode()
    rule = html.split('id="sampling-rule"')[1].split("</dd>")[0]
    assert "is divided by week (Monday to Sunday)" in rule
    assert "the first 3 of each stratum are drawn" in rule
    assert "Sampling query (for verification)" in html


def test_the_api_gives_the_rule_in_words_beside_the_query(client, people, make_recording, draw):
    make_recording("officer", start=WEEK48)
    spot = draw(per_stratum=2, kind="ledgers", per="month")
    body = client.get(f"/api/v1/spot-checks/{spot.pk}", **api_auth(client, "inspector")).json()
    assert body["rule_text"] == "".join(sampling.rule_sentences(spot.query))
    assert "按每个自然月分层" in body["rule_text"]
    assert "声像记录台账在该期间内的各行" in body["rule_text"]
    assert body["query"]["ordering"] == "day, officer_id"  # the stored record, unchanged
    client.cookies["django_language"] = "en"  # the language chosen, as on the pages
    english = client.get(f"/api/v1/spot-checks/{spot.pk}", **api_auth(client, "inspector")).json()
    assert english["rule_text"].startswith("Each squad under the chosen units")
    assert ". A stratum’s population is" in english["rule_text"]  # sentences spaced
