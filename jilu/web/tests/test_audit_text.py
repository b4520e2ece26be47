"""The audit log in words (C6.4, C6.5.7): every action code written anywhere in
the code has a phrase (in Chinese and in English) and a family; every details key
an action records is said in words; objects are named, in bulk."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import translation

from jilu.audit import labels
from jilu.audit.chain import record
from jilu.audit.models import AuditEntry
from jilu.web import audit_text
from jilu.web.audit_details import Names
from jilu.web.audit_sentences import render

JILU = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(JILU.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _first_literals(tree: ast.Module, function: str) -> set[str]:
    """The literal first arguments of every call of ``function`` in ``tree``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node) == function and node.args:
            if isinstance(node.args[0], ast.Constant):
                out.add(node.args[0].value)
    return out


def _keyword_literals(function: str, keyword: str) -> set[str]:
    """Literal values (or both branches of ``a if c else b``) given as ``keyword=``."""
    out = set()
    for _path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) == function:
                for kw in node.keywords:
                    if kw.arg != keyword:
                        continue
                    values = (
                        [kw.value.body, kw.value.orelse]
                        if isinstance(kw.value, ast.IfExp)
                        else [kw.value]
                    )
                    out |= {v.value for v in values if isinstance(v, ast.Constant)}
    return out


def _dynamic(prefix: str, path: Path, tree: ast.Module) -> set[str]:
    """Codes built as ``f"{prefix}{…}"``: each such prefix must be expanded here."""
    from jilu.devices.models import DeviceEvent
    from jilu.org.models import WorkbookUpload

    if prefix in ("access.request.", "dutylog.note.", "access.package."):  # the module's _audit
        return {prefix + a for a in _first_literals(tree, "_audit")}
    if prefix == "evidence.recording.":  # playback.note_access(action=…)
        return {prefix + a for a in _keyword_literals("note_access", "action")}
    if prefix == "devices.event.":
        return {prefix + k for k in DeviceEvent.Kind.values}
    if prefix == "org.workbook.":  # org.uploads.finish audits refusals and failures
        return {prefix + s for s in (WorkbookUpload.State.REFUSED, WorkbookUpload.State.FAILED)}
    if prefix == "access.copy.":  # a copy handed out comes back or is destroyed
        return {prefix + a for a in _keyword_literals("_close", "action")}
    if prefix == "oversight.finding.":  # an inspector's decision
        return {prefix + "confirm", prefix + "dismiss"}
    raise AssertionError(f"{path}: audit code built as f'{prefix}…': expand it in this test")


def recorded() -> dict[str, list[ast.Call]]:
    """Every audit code written by ``record(…)`` in jilu, with its calls."""
    codes: dict[str, list[ast.Call]] = {}
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node) == "record" and node.args):
                continue
            arg = node.args[0]
            found: set[str] = set()
            if isinstance(arg, ast.Constant):
                found = {arg.value}
            elif isinstance(arg, ast.IfExp):
                found = {arg.body.value, arg.orelse.value}  # type: ignore[attr-defined]
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                found = _dynamic(arg.values[0].value, path, tree)
            else:
                raise AssertionError(f"{path}:{node.lineno}: audit code not readable here")
            for code in found:
                codes.setdefault(code, []).append(node)
    return codes


def test_the_scan_finds_the_codes_it_must():
    codes = recorded()
    assert len(codes) > 100
    for code in (
        "auth.login_failed",
        "evidence.recording.download",
        "evidence.recording.refused",
        "access.request.copy",
        "dutylog.note.return",
        "devices.event.loss",
        "org.workbook.refused",
        "retention.disposal.execute",
        "audit.log.export",
    ):
        assert code in codes, code


def test_every_recorded_action_has_words_a_family_and_english():
    codes = recorded()
    missing = sorted(c for c in codes if c not in labels.ACTION_LABELS)
    assert not missing, f"audit codes without a label in jilu/audit/labels.py: {missing}"
    homeless = sorted(c for c in labels.ACTION_LABELS if not labels.family_of(c))
    assert not homeless, f"codes in no family: {homeless}"
    with translation.override("en"):
        untranslated = [str(t) for t in labels.ACTION_LABELS.values() if CJK.search(str(t))] + [
            str(v[0]) for v in labels.FAMILIES.values() if CJK.search(str(v[0]))
        ]
    assert not untranslated, untranslated


def test_families_partition_the_codes():
    seen: dict[str, str] = {}
    for key in labels.FAMILIES:
        for code in labels.family_codes(key):
            assert code not in seen, (code, seen.get(code), key)
            seen[code] = key
    assert set(seen) == set(labels.ACTION_LABELS)
    assert labels.family_of("org.roster.export") == "copy"
    assert labels.family_of("org.person.password_reset") == "auth"
    assert labels.family_of("org.person.update") == "org"


def _details_keys(call: ast.Call) -> set[str]:
    for kw in call.keywords:
        if kw.arg == "details" and isinstance(kw.value, ast.Dict):
            return {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
    return set()


def _helper_keys() -> dict[str, set[str]]:
    """Keys added through ``_audit(action, …, key=value)`` helpers."""
    out: dict[str, set[str]] = {}
    for path, tree in _sources():
        prefix = {"access": "access.request.", "dutylog": "dutylog.note."}.get(path.parent.name)
        if not prefix:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) == "_audit" and node.args:
                keys = {kw.arg for kw in node.keywords if kw.arg not in ("actor", "req", "note")}
                code = prefix + node.args[0].value  # type: ignore[attr-defined]
                out.setdefault(code, set()).update(keys)
                if prefix == "access.request.":
                    out[code].add("number")
                else:
                    out[code] |= {"officer", "start", "end", "reason"}
    return out


SAMPLES = [7, "2026-11-20T01:10:00+00:00", ["a", 3], {"phone": ["1", "2"]}, True, None, "x"]


@pytest.mark.django_db
def test_every_recorded_details_key_is_said_in_words():
    """Whatever value an action records, its details read as words: no Python
    repr ({, [, '), no None/True and no English key."""
    keys_by_code: dict[str, set[str]] = {}
    for code, calls in recorded().items():
        for call in calls:
            keys_by_code.setdefault(code, set()).update(_details_keys(call))
    for code, keys in _helper_keys().items():
        keys_by_code.setdefault(code, set()).update(keys)
    assert sum(len(k) for k in keys_by_code.values()) > 200
    problems = []
    for code, keys in sorted(keys_by_code.items()):
        for sample in SAMPLES:
            details = {k: sample for k in sorted(keys)}
            text = render(code, details, Names())
            for bad in ("{", "}", "[", "'", "None", "True", "False"):
                if bad in text:
                    problems.append(f"{code} with {sample!r}: {bad!r} in {text}")
            for key in keys:
                if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", text):
                    problems.append(f"{code}: key {key!r} in {text}")
    assert not problems, problems[:20]


def test_sentences_say_what_happened():
    n = Names({("org.person", "3"): "王五（警号 900001）"})
    assert (
        render("evidence.recording.download", {"request": "DY2026-0003", "via": "web"}, n)
        == "下载原始文件，依据调用单 DY2026-0003，经网页"
    )
    assert render(
        "auth.login_failed", {"username": "wang", "ip": "10.0.0.1", "failures": 2}, n
    ) == ("登录失败：密码错误（连续第 2 次），地址 10.0.0.1")
    assert render("auth.login_failed", {"username": "nobody", "ip": "10.0.0.1"}, n) == (
        "登录失败：没有登录名为“nobody”的账号，地址 10.0.0.1"
    )
    text = render(
        "devices.recorder.check",
        {"serial": "A000001", "battery_pct": 72, "clock_offset_seconds": 28.0, "note": ""},
        n,
    )
    assert text == "记录仪 A000001，电量 72%，校正时钟偏差 +28.0 秒"
    assert render("dutylog.note.create", {"officer": 3, "reason": "battery"}, n).startswith(
        "王五（警号 900001）"
    )
    # A key no sentence knows is still shown, in words.
    assert render("evidence.recording.view", {"via": "api", "ip": "10.0.0.1"}, n) == (
        "经API；地址 10.0.0.1"
    )


def test_sentences_in_english():
    with translation.override("en"):
        text = render("evidence.recording.download", {"request": "DY2026-0003"}, Names())
        assert text == "Download original, under access form DY2026-0003"
        assert not CJK.search(
            render("auth.login_failed", {"failures": 1, "ip": "1.2.3.4"}, Names())
        )


@pytest.mark.django_db
def test_objects_are_named_in_bulk(
    people, make_recording, make_activity, django_assert_max_num_queries
):
    from jilu.casework.actions import annotate
    from jilu.casework.models import RecordedStep

    named = make_recording("officer")
    plain = make_recording("officer_b")
    activity = make_activity()
    annotate(actor="system:test", recording=named, activity=activity, step=RecordedStep.values[0])
    named.refresh_from_db()
    with transaction.atomic():
        for rec in (named, plain) * 20:
            record("evidence.recording.view", actor=people["officer"], obj=rec)
        record("org.person.update", actor=people["admin"], obj=people["officer_b"])
    entries = list(AuditEntry.objects.order_by("-seq")[:41])
    with django_assert_max_num_queries(4):  # people, recordings (+ nothing per row)
        rows = audit_text.describe(entries)
    texts = {r.object_text for r in rows}
    assert f"声像记录 {named.annotation.standard_name}" in texts
    assert f"声像记录 {plain.original_name}" in texts
    person = people["officer_b"]
    assert f"人员 李四（警号 {person.user_no}）" in texts
    assert all(r.action_text == "查看" for r in rows if r.action.endswith(".view"))
