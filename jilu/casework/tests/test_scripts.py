"""Opening scripts (Attachment 1, A1): what officers say when filming starts.

C4.1: film a landmark, then state the two officers' names and certificate
numbers, the place and exact address, and the task. C4.2: show the
certificates; when the party refuses to come, say so and film the witnesses.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest

from jilu.casework import scripts
from jilu.casework.tests.documents_data import T0, activity

# Attachment 1 as published (厦城执〔2021〕28号), with its blanks.
ATTACHMENT_SURVEY = (
    "“今天是×年×月×日上(下)午××点,执法人员×××、×××到×××单位进行现场勘察,"
    "当事人(或受托人)×××在现场(或者我们已于××年××月××日通知当事人到场,"
    "但当事人拒不到现场,我们邀请×××单位的两名见证人×××、×××到场见证),"
    "具体地点是×××。这是我们的执法证件。为了保护当事人的合法权益,我们将按规定对此次"
    "执法过程进行全程录音、录像,请您配合我们的调查。拟定检查的内容有1...2...3...”。"
)
ATTACHMENT_INQUIRY = "(可参照询问笔录的格式进行口述。)"
ATTACHMENT_SERVICE = (
    "“今天是×年×月×日,我们是×××执法部门,执法人员×××、×××,这是我们的执法证件。"
    "现依法向你送达×××文书。请您签收。”"
)
ATTACHMENT_ENFORCEMENT = (
    "今天是×年×月×日上(下)午××点,×××执法部门依据××××××××××××决定书实施"
    "强制拆除(查封扣押),当事人(或受托人)×××在现场(或者我们已于××年××月××日通知"
    "当事人到场,但当事人拒不到现场,我们邀请×××单位的两名见证人×××、×××到场见证),"
    "具体地点是×××。这是我们的执法证件。为了保护当事人的合法权益,我们将按规定对此次"
    "执法过程进行全程录音、录像,请您配合我们的工作。”"
)


def half_width(text: str) -> str:
    """The published text writes , ( ) half-width; the cards use Chinese full-width."""
    return text.replace("，", ",").replace("（", "(").replace("）", ")")


def blank(key: str) -> scripts.Script:
    return scripts.build(key, scripts.ScriptFacts(at=None, officers=[], unit=""))


# --- wording: the attachment, word for word ------------------------------------


def test_blank_survey_is_the_attachment_word_for_word():
    assert half_width(blank(scripts.SURVEY).text) == ATTACHMENT_SURVEY


def test_blank_service_is_the_attachment_word_for_word():
    assert half_width(blank(scripts.SERVICE).text) == ATTACHMENT_SERVICE


@pytest.mark.parametrize(("key", "action"), [("demolition", "强制拆除"), ("seizure", "查封扣押")])
def test_blank_enforcement_is_the_attachment_with_the_c41_officers(key, action):
    """Step four names no officers; C4.1 requires them, stated after the certificates."""
    text = half_width(blank(key).text)
    assert ",执法人员×××、×××。" in text
    text = text.replace(",执法人员×××、×××。", "。")
    expected = ATTACHMENT_ENFORCEMENT.replace("强制拆除(查封扣押)", action)
    # The published step four lacks its opening quotation mark.
    assert text == "“" + expected


def test_the_inquiry_script_follows_the_transcript_form():
    s = blank(scripts.INQUIRY)
    assert half_width(s.source).endswith(ATTACHMENT_INQUIRY)
    for phrase in ("这是我们的执法证件", "进行询问", "全程录音、录像", "申请回避"):
        assert phrase in s.text


@pytest.mark.parametrize(
    ("at", "said"),
    [
        (datetime(2026, 11, 26, 9, 0), "上午9点"),
        (datetime(2026, 11, 26, 15, 30), "下午3点30分"),
        (datetime(2026, 11, 26, 12, 10), "下午12点10分"),
        (datetime(2026, 11, 26, 0, 5), "上午0点5分"),
    ],
)
def test_half_day_and_hour(at, said):
    assert scripts.half_day_hour(at) == said


def test_blanks_left_are_listed_and_marked():
    s = blank(scripts.SURVEY)
    assert {"日期", "时间", "执法人员及执法证号", "具体地址", "拟定检查的内容"} <= set(s.missing)
    assert "执法人员（至少两名，C4.1）" in s.missing
    marked = [p for para in s.paragraphs for p in para if p.missing]
    assert all(p.fill for p in marked)
    assert "".join(p.text for p in marked).count("×") > 10


# --- filled from the activity ------------------------------------------------------


@pytest.fixture
def officers_said(people):
    o, ob = people["officer"], people["officer_b"]
    return f"王五（执法证号{o.cert_no}）、李四（执法证号{ob.cert_no}）"


def test_survey_filled_from_the_activity(people, tree, party, officers_said):
    """C4.1: names with certificate numbers, place, address, time; A1 step one."""
    act = activity(
        people,
        tree,
        party,
        kind="S1",
        start=T0,  # 09:00 in Xiamen
        present_person="张三",
        inspection_items="占道经营情况\n营业执照",
    )
    s = scripts.for_activity(act)
    assert s.key == scripts.SURVEY
    assert s.text == (
        f"“今天是2026年11月26日上午9点，执法人员{officers_said}到某某餐厅进行现场勘察，"
        "当事人张三在现场，具体地点是思明区中山路1号。这是我们的执法证件。"
        "为了保护当事人的合法权益，我们将按规定对此次执法过程进行全程录音、录像，"
        "请您配合我们的调查。拟定检查的内容有1.占道经营情况；2.营业执照”。"
    )
    assert s.missing == []


def test_refusal_and_the_two_witnesses(people, tree, party, officers_said):
    """C4.2: the party refused to come after notification; two witnesses attend."""
    act = activity(
        people,
        tree,
        party,
        kind="S1",
        start=T0 + timedelta(hours=6),  # 15:00
        party_refused=True,
        party_notified_on=date(2026, 11, 20),
        witness1_name="赵六",
        witness1_unit="中华街道办事处",
        witness2_name="钱七",
        witness2_unit="中华街道办事处",
        inspection_items="违法搭建情况",
    )
    text = scripts.for_activity(act).text
    assert "今天是2026年11月26日下午3点，" in text
    assert (
        "我们已于2026年11月20日通知当事人到场，但当事人拒不到现场，"
        "我们邀请中华街道办事处的两名见证人赵六、钱七到场见证，具体地点是思明区中山路1号。"
    ) in text


def test_page_inputs_fill_what_the_activity_lacks(people, tree, party):
    """The agent present, the time on site: inputs on the page, not stored."""
    act = activity(people, tree, party, kind="S1", start=T0)
    s = scripts.for_activity(
        act, {"present": "agent", "present_name": "孙八", "at": "2026-11-26T10:20"}
    )
    assert "上午10点20分" in s.text
    assert "受托人孙八在现场" in s.text
    act.refresh_from_db()
    assert act.present_person == ""


def test_service_script(people, tree, party, officers_said):
    act = activity(people, tree, party, kind="S4", start=T0 + timedelta(days=2))
    s = scripts.for_activity(act, {"document": "《责令限期改正通知书》"})
    assert s.key == scripts.SERVICE
    assert s.text == (
        f"“今天是2026年11月28日，我们是中华中队，执法人员{officers_said}，"
        "这是我们的执法证件。现依法向你送达《责令限期改正通知书》。请您签收。”"
    )


@pytest.mark.parametrize(("kind", "action"), [("S6", "强制拆除"), ("S5", "查封扣押")])
def test_demolition_and_seizure_scripts(people, tree, party, officers_said, kind, action):
    act = activity(
        people,
        tree,
        party,
        kind=kind,
        start=T0 + timedelta(hours=5),  # 14:00
        decision_no="思城执强决〔2026〕3号决定书",
        present_person="张三",
    )
    s = scripts.for_activity(act)
    assert s.text == (
        f"“今天是2026年11月26日下午2点，中华中队依据思城执强决〔2026〕3号决定书实施{action}，"
        "当事人张三在现场，具体地点是思明区中山路1号。"
        f"这是我们的执法证件，执法人员{officers_said}。"
        "为了保护当事人的合法权益，我们将按规定对此次执法过程进行全程录音、录像，"
        "请您配合我们的工作。”"
    )
    assert s.missing == []


def test_inquiry_script_filled(people, tree, party, officers_said):
    act = activity(
        people, tree, party, kind="S3", start=T0 + timedelta(days=1), present_person="张三"
    )
    s = scripts.for_activity(act)
    assert s.key == scripts.INQUIRY
    assert s.text.startswith(
        f"“今天是2026年11月27日上午9点，我们是中华中队的执法人员{officers_said}，"
        "这是我们的执法证件。现在在思明区中山路1号依法就未经批准占道经营一事向张三进行询问"
    )


def test_kinds_without_an_attachment_step_get_the_c41_statement(people, tree, party):
    act = activity(people, tree, party, kind="S7", start=T0)
    s = scripts.for_activity(act)
    assert s.key == scripts.GENERAL
    assert "现在在某某餐厅，具体地址是思明区中山路1号，执行抢险施救、应急处置任务" in s.text
    # Any step can be chosen on the page.
    assert scripts.for_activity(act, requested="survey").key == scripts.SURVEY


def test_one_officer_alone_is_flagged(people, tree, party):
    """C4.1 speaks of two officers."""
    from jilu.casework import actions

    act = actions.create_activity(
        actor="system:test",
        officers=[people["officer"]],
        kind="S2",
        category="other",
        unit=tree["squad1"],
        planned_start=T0,
        address="思明区中山路1号",
    )
    assert "执法人员（至少两名，C4.1）" in scripts.for_activity(act).missing


# --- pages and permissions ------------------------------------------------------------


def _urls(act):
    base = f"/casework/docs/activities/{act.pk}/script"
    return [f"{base}/", f"{base}/card/", f"{base}/card.pdf"]


@pytest.fixture
def survey(people, tree, party):
    return activity(
        people,
        tree,
        party,
        kind="S1",
        start=datetime(2026, 11, 26, 6, 30, tzinfo=UTC),  # 14:30 in Xiamen
        present_person="张三",
        inspection_items="占道经营情况",
    )


@pytest.mark.parametrize(
    "username", ["officer", "officer_b", "squad_leader", "case_handler", "inspector"]
)
def test_people_in_scope_open_the_script(client, survey, people, username):
    client.force_login(people[username])
    page, card, pdf = _urls(survey)
    r = client.get(page)
    assert r.status_code == 200
    body = r.content.decode()
    assert "现场勘察环节" in body
    assert people["officer"].cert_no in body and "王五" in body
    assert "思明区中山路1号" in body and "下午2点30分" in body
    r = client.get(card)
    assert r.status_code == 200
    assert "现场开始拍摄时口述内容" in r.content.decode()
    r = client.get(pdf)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


@pytest.mark.parametrize("username", ["officer_other", "squad_admin"])
def test_the_script_is_404_outside_scope(client, survey, people, username):
    client.force_login(people[username])
    for url in _urls(survey):
        assert client.get(url).status_code == 404, url


def test_an_officer_of_another_squad_not_present_gets_404(client, people, tree, party, make_person):
    stranger = make_person("stranger", unit="squad2", name="周九")
    act = activity(people, tree, party, kind="S1", start=T0)
    client.force_login(stranger)
    for url in _urls(act):
        assert client.get(url).status_code == 404, url


def test_signed_out_visitors_are_sent_to_sign_in(client, survey):
    for url in _urls(survey):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/")


@pytest.mark.usefixtures("poppler")
def test_the_printed_card_carries_the_filled_script(client, survey, people, tmp_path):
    client.force_login(people["officer"])
    r = client.get(_urls(survey)[2] + "?witness1=赵六")
    path = tmp_path / "card.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "今天是2026年11月26日下午2点30分" in flat
    assert f"王五（执法证号{people['officer'].cert_no}）" in flat
    assert "具体地点是思明区中山路1号" in flat
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+419\.5\d* x 595\.2\d* pts", info), info  # A5


def test_choosing_another_step_keeps_the_inputs(client, survey, people):
    client.force_login(people["officer"])
    r = client.get(_urls(survey)[0] + "?witness1=赵六&script=survey")
    body = r.content.decode()
    assert "witness1=%E8%B5%B5%E5%85%AD&amp;script=service" in body
    r = client.get(_urls(survey)[0] + "?script=service&document=《责令限期改正通知书》")
    text = re.sub(r"<[^>]+>", "", r.content.decode())
    assert "现依法向你送达《责令限期改正通知书》。请您签收。" in text
