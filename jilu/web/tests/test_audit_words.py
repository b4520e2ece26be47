"""Every audit entry reads as words in the log, its export and its API (C6.4):
each recorded action, with details as its code records them and its object
type, says no ``app.model`` type, no ``kind:id`` or ``item:outcome`` code pair,
no bare rule code and no id without its ``#``; every object type any record()
call writes has a label, is a choice of the object filter and can be followed
from its page; and the oversight page of the log names its objects in bulk."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.utils import translation

from conftest import PASSWORD
from jilu.audit.chain import record
from jilu.oversight.rules import RULES
from jilu.retention.rules import RULES as KEEP_RULES
from jilu.web import audit_filters
from jilu.web.audit_details import OBJECT_KINDS, UNIT_BY_CODE, Names
from jilu.web.audit_sentences import render
from jilu.web.audit_text import object_text
from jilu.web.tests.test_audit_text import _details_keys, _helper_keys, _name, _sources, recorded

CJK = re.compile(r"[\u4e00-\u9fff]")
ID = 4711  # every id in the samples: it must never be shown without its "#"
RULE = "spot_ledger_duration"

# Details as the actions record them (a key's usual shape); ids are ``ID``,
# counts small numbers, free text ASCII so that English shows no Chinese.
REALISTIC: dict[str, object] = {
    "rule": RULE,
    "clause": "C6.1",
    "subject": f"officer:{ID}",
    "facts": [f"spot_item:{ID}", f"recording:{ID}", f"docking:{ID}", f"gap:{ID}"],
    "unit": ID,
    "units": ["350203000101", "350206000101"],
    "parent": "350203000001",
    "person": ID,
    "officer": ID,
    "officers": [ID],
    "holder": ID,
    "handler": ID,
    "holder_from_history": ID,
    "activity": ID,
    "case": ID,
    "station": ID,
    "workstation": ID,
    "docking": ID,
    "recording": ID,
    "recordings": [ID],
    "quarantine": ID,
    "package": ID,
    "findings": [ID],
    "marks": ["ledger_duration:fail", "ledger_count:pass"],
    "ledger_row": f"2026-11-03/{ID}",
    "key": "low_battery_pct",
    "period": "2026-11",
    "position": 3,
    "score": 87.5,
    "passed": 3,
    "failed": 1,
    "count": 3,
    "population": 380,
    "per": "month",
    "per_stratum": 2,
    "seed": "c6a1c6a1",
    "kind": "recordings",
    "year": 2026,
    "month": 11,
    "recorders": 5,
    "recording_rows": 3,
    "same": True,
    "redrafted": False,
    "unit_code": "350203000101",
    "unit_name": "Zhonghua squad",
    "reason": "checked on site",
    "text": "explained in person",
    "note": "looked fine",
    "old": "20",
    "new": "25",
    "ip": "10.0.0.1",
    "via": "web",
}
SHA = "ab" * 32


# Keys some actions record in another shape than the usual.
OVERRIDES: dict[tuple[str, str], object] = {
    ("access.request.create", "case"): "AJ2026-0001",  # the case's number
    ("casework.recordlist.move", "case"): "AJ2026-0001",
    ("evidence.media.processed", "recording"): {"duration_seconds": [None, 12.0]},
    ("retention.hold.place", "recordings"): 3,  # how many
    ("oversight.ledger.confirm", "recordings"): 94,
    ("evidence.object.dispose", "rule"): "case_file",  # a retention rule
}


def _sample(code: str, key: str) -> object:
    if (code, key) in OVERRIDES:
        return OVERRIDES[(code, key)]
    if key in REALISTIC:
        return REALISTIC[key]
    if "sha" in key or key in ("sm3", "attachment", "hash"):
        return SHA
    if key.endswith(("_at", "_until", "_from")) or key in ("start", "end", "at", "until"):
        return "2026-11-20T01:10:00+00:00"
    return "sample text"


# --- object types written by record() -----------------------------------------------------

# Variables given as ``obj=`` whose model is not ``<this app>.<variable>``.
OBJ_VARIABLES = {
    ("casework", "ann.recording"): "evidence.recording",
    ("casework", "unit"): "org.unit",
    ("devices", "station"): "devices.workstation",
    ("evidence", "obj"): "evidence.storedobject",
    ("evidence", "alarm"): "evidence.fixityalarm",
    ("ingest", "existing"): "",  # a recording or a quarantined file: see the code
    ("ingest", "item"): "ingest.quarantineitem",
    ("ingest", "session"): "ingest.dockingsession",
    ("org", "user"): "org.person",
    ("org", "upload"): "org.workbookupload",
    ("oversight", "confirmation"): "oversight.ledgerconfirmation",
    ("oversight", "spot"): "oversight.spotcheck",
    ("transfer", "disc.package"): "transfer.package",
}


def _model_of(app: str, var: str) -> str:
    """The model a variable of ``app`` named like a model holds (its own app's first)."""
    try:
        return apps.get_model(app, var)._meta.label_lower
    except LookupError:
        found = [m._meta.label_lower for m in apps.get_models() if m._meta.model_name == var]
        assert len(found) == 1, f"{app}: which model is obj={var}? Add it to OBJ_VARIABLES"
        return found[0]


def recorded_types() -> dict[str, set[str]]:
    """Every object type written by ``record(…)`` in jilu, with its codes."""
    out: dict[str, set[str]] = {}
    for path, tree in _sources():
        app = path.relative_to(Path(__file__).resolve().parents[2]).parts[0]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node) == "record" and node.args):
                continue
            kws = {kw.arg: kw.value for kw in node.keywords}
            code = ast.unparse(node.args[0])
            if isinstance(kws.get("object_type"), ast.Constant):
                types = {kws["object_type"].value}
            elif "obj" in kws:
                var = ast.unparse(kws["obj"])
                found = OBJ_VARIABLES.get((app, var))
                if found == "":
                    types = (
                        {"evidence.recording"} if "recording" in code else {"ingest.quarantineitem"}
                    )
                elif found:
                    types = {found}
                else:
                    types = {_model_of(app, var)}
            else:
                continue
            for t in types:
                out.setdefault(t, set()).add(code)
    return out


def test_every_recorded_object_type_has_words_and_is_a_filter_choice():
    types = recorded_types()
    assert {"oversight.finding", "oversight.report", "oversight.spotcheck"} <= set(types)
    assert "oversight.ledgerconfirmation" in types
    missing = sorted(t for t in types if t not in OBJECT_KINDS)
    assert not missing, f"object types without words in jilu/web/audit_text.py: {missing}"
    choices = dict(audit_filters.object_type_choices())
    assert set(types) <= set(choices)
    with translation.override("en"):
        english = {t: str(OBJECT_KINDS[t].label) for t in types}
    assert not [t for t in english.values() if CJK.search(t)], english


# --- every action in words ---------------------------------------------------------------


class Everything(Names):
    """Every lookup finds a name (as a page whose objects all exist)."""

    def get(self, object_type: str, object_id: object) -> str:
        return "Name"


def _codes_and_keys() -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for code, calls in recorded().items():
        for call in calls:
            keys.setdefault(code, set()).update(_details_keys(call))
    for code, more in _helper_keys().items():
        keys.setdefault(code, set()).update(more)
    return keys


def _problems(text: str) -> list[str]:
    out = []
    model_labels = {m._meta.label_lower for m in apps.get_models()} | set(OBJECT_KINDS)
    out += [f"object type {t!r}" for t in model_labels if t in text and t != UNIT_BY_CODE]
    if m := re.search(r"\b[a-z_]+:[a-z0-9_]+\b", text):
        out.append(f"code pair {m[0]!r}")
    codes = (*RULES, *(r for r in KEEP_RULES if "_" in r))  # "original" is also a word
    out += [f"rule code {r!r}" for r in codes if re.search(rf"\b{r}\b", text)]
    if re.search(rf"(?<!#){ID}", text):
        out.append(f"id {ID} without #")
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_recorded_action_reads_as_words(language):
    types_by_code: dict[str, set[str]] = {}
    for object_type, codes in recorded_types().items():
        for code in codes:
            types_by_code.setdefault(code, set()).add(object_type)
    problems = []
    with translation.override(language):
        for code, keys in sorted(_codes_and_keys().items()):
            details = {k: _sample(code, k) for k in sorted(keys)}
            for names in (Names(), Everything()):
                text = render(code, details, names)
                problems += [f"{code}: {p} in {text}" for p in _problems(text)]
                if language == "en" and CJK.search(text):
                    problems.append(f"{code}: Chinese in {text}")
        for code_types in types_by_code.values():
            for object_type in code_types:
                text = object_text(object_type, str(ID), Names())
                problems += [f"{object_type}: {p} in {text}" for p in _problems(text)]
                if language == "en" and CJK.search(text):
                    problems.append(f"{object_type}: Chinese in {text}")
    assert not problems, "\n".join(problems[:30])


def test_oversight_details_say_rules_subjects_and_marks():
    n = Names({("org.person", "27"): "王五（警号 900001）", ("org.unit", "9"): "中华中队"})
    text = render(
        "oversight.finding.open",
        {
            "rule": "spot_ledger_duration",
            "clause": "C6.1",
            "subject": "officer:27",
            "period": "2026-11",
            "unit": 9,
            "person": 27,
            "facts": ["spot_item:36"],
        },
        n,
    )
    assert text == (
        "抽检不符合：台账总时长与声像记录不一致（C6.1），对象 人员 王五（警号 900001），期间 2026年11月，"
        "责任单位 中华中队，责任人 王五（警号 900001），事实 抽检项 #36"
    )
    marks = render("oversight.spotcheck.review", {"marks": ["ledger_duration:fail"]}, n)
    assert marks == "台账总时长与声像记录一致：不符合"
    done = render("oversight.spotcheck.complete", {"passed": 3, "failed": 1, "findings": [16]}, n)
    assert "督察发现 #16" in done
    with translation.override("en"):
        text = render("oversight.finding.confirm", {"rule": "low_battery", "reason": "ok"}, n)
        assert not CJK.search(text), text


# --- the oversight page of the log --------------------------------------------------------


class _Cells(HTMLParser):
    """The visible text of the entries' action, object and details cells."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        if tag == "td" and cls.split() and cls.split()[0] in ("action", "object", "details"):
            self.depth = 1
            self.texts.append("")
        elif self.depth and tag == "td":
            self.depth = 0

    def handle_endtag(self, tag):
        if tag == "td":
            self.depth = 0

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


@pytest.fixture
def oversight_log(db, people, tree, make_recording):
    from jilu.casework.tests.conftest import T0
    from jilu.oversight import actions
    from jilu.oversight.actions import Fact, Subject
    from jilu.oversight.periods import day

    made = []
    for rule in ("late_collection", "no_recorder"):
        rec = make_recording(start=T0, docked_at=T0 + timedelta(hours=30))
        finding, _n = actions.note_finding(
            actor=actions.SYSTEM,
            rule=rule,
            subject=Subject("officer", people["officer"].pk, str(people["officer"])),
            period=day(rec.docked_at),
            unit=tree["squad1"],
            person=people["officer"],
            facts=[Fact("recording", rec.pk, rec.docked_at, {"hours": 29.8})],
        )
        made.append(finding)
    with transaction.atomic():
        for finding in made * 20:
            record(
                "oversight.finding.explain",
                actor=people["officer"],
                obj=finding,
                object_type="oversight.finding",
                details={"rule": finding.rule, "clause": finding.clause, "text": "说明"},
            )
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_oversight_page_names_objects_in_bulk(
    oversight_log, language, django_assert_max_num_queries
):
    client = Client()
    client.login(username="inspector", password=PASSWORD)
    client.cookies["django_language"] = language
    with django_assert_max_num_queries(25):
        response = client.get("/audit/?family=oversight")
    assert response.status_code == 200
    cells = _Cells()
    cells.feed(response.content.decode())
    assert len(cells.texts) >= 3 * 40
    shown = " ".join(cells.texts)
    assert "oversight." not in shown
    assert not re.search(r"\b[a-z_]+:[a-z0-9_]+\b", shown), shown[:500]
    assert not any(re.search(rf"\b{r}\b", shown) for r in RULES)
    finding = oversight_log[0]
    with translation.override(language):
        rule = str(RULES[finding.rule].label)
        assert f"{OBJECT_KINDS['oversight.finding'].label} #{finding.pk} {rule} · " in shown
    if language == "en":  # names are data; every word around them is English
        assert not CJK.search(CJK.sub("", shown.replace(finding.subject_label, "")))
    # One finding's history, as its page links to it.
    page = client.get(f"/oversight/findings/{finding.pk}/")
    link = f"/audit/?object_type=oversight.finding&amp;object_id={finding.pk}"
    assert link in page.content.decode()
    history = client.get(link.replace("&amp;", "&"))
    assert history.context["page_obj"].paginator.count == 21  # opened + 20 explanations


@pytest.mark.django_db
def test_page_query_count_does_not_grow_with_rows(
    oversight_log, people, django_assert_max_num_queries
):
    """Forty more rows of findings cost no more queries than a page of a few."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.login(username="inspector", password=PASSWORD)
    with CaptureQueriesContext(connection) as few:
        client.get("/audit/?family=oversight&date_from=2000-01-01&object_id=&q=")
    with transaction.atomic():
        for finding in oversight_log * 20:
            record(
                "oversight.finding.dismiss",
                actor=people["inspector"],
                obj=finding,
                object_type="oversight.finding",
                details={"rule": finding.rule, "reason": "x"},
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/audit/?family=oversight&date_from=2000-01-01&object_id=&q=")
