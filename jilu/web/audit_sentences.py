"""Each audit action's details as a sentence (C6.4): what an inspector reads in
the audit log, its export and its API.

A sentence says the main facts; ``render`` then lists, key by key in words,
whatever the sentence left out, so a new key in an action's details shows up
(and ``test_audit_text`` asks for its words) rather than disappearing.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from jilu.web import audit_oversight  # noqa: F401 - registers oversight's sentences
from jilu.web.audit_details import (
    SENTENCES,
    Names,
    Used,
    changes_text,
    field_names,
    join,
    opt,
    pairs,
    plain,
    renamed_text,
    seconds_text,
    sentence,
    size_text,
    time_text,
    value,
)


def render(code: str, details: Any, names: Names) -> str:
    """The entry's details in words, never a Python repr or an English key."""
    if not details:
        return ""
    if not isinstance(details, dict):
        return value(code, "", details, names)
    d = Used(details)
    fn = SENTENCES.get(code)
    head = fn(code, d, names) if fn else ""
    rest = {k: v for k, v in details.items() if k not in d.used}
    return _("；").join(p for p in (head, pairs(code, rest, names)) if p)


def _v(code: str, d: Used, key: str, names: Names) -> str:
    return value(code, key, d.get(key), names)


def _via(d: Used) -> str:
    return opt(_("经%(v)s"), d, "via", lambda v: value("", "via", v, Names()))


def _ip(d: Used) -> str:
    return opt(_("地址 %(v)s"), d, "ip")


# --- sign-in and accounts -------------------------------------------------------------


@sentence("auth.login")
def _login(code: str, d: Used, n: Names) -> str:
    via = opt(_("经%(v)s登录"), d, "via", lambda v: value(code, "via", v, n))
    return join(via, _ip(d))


@sentence("auth.logout")
def _logout(code: str, d: Used, n: Names) -> str:
    return _ip(d)


@sentence("auth.login_failed")
def _login_failed(code: str, d: Used, n: Names) -> str:
    if "failures" in d:
        what = _("登录失败：密码错误（连续第 %(n)s 次）") % {"n": plain(d["failures"])}
    else:
        what = _("登录失败：没有登录名为“%(u)s”的账号") % {"u": plain(d.get("username", ""))}
    d.take("username")
    return join(what, _ip(d))


@sentence("auth.locked_out")
def _locked_out(code: str, d: Used, n: Names) -> str:
    until = opt(_("账号锁定至 %(v)s"), d, "locked_until", time_text)
    d.take("username")
    return join(_("密码连续错误"), until, _ip(d))


@sentence("auth.login_locked")
def _login_locked(code: str, d: Used, n: Names) -> str:
    until = opt(_("账号锁定至 %(v)s"), d, "locked_until", time_text)
    return join(until, _via(d), _ip(d))


@sentence("auth.token_issued")
def _token(code: str, d: Used, n: Names) -> str:
    return join(opt(_("令牌编号 %(v)s"), d, "token"), _ip(d))


@sentence("org.person.create")
def _person_create(code: str, d: Used, n: Names) -> str:
    who = opt("%(v)s", d, "name")
    ids = join(
        opt(_("登录名 %(v)s"), d, "username"),
        opt(_("警号 %(v)s"), d, "user_no"),
        opt(_("执法证号 %(v)s"), d, "cert_no"),
    )
    return join(
        f"{who}（{ids}）" if ids else who,
        opt(_("单位 %(v)s"), d, "unit", lambda v: value(code, "unit", v, n)),
        opt(_("角色 %(v)s"), d, "roles", lambda v: value(code, "roles", v, n)),
    )


@sentence("org.unit.create")
def _unit_create(code: str, d: Used, n: Names) -> str:
    return join(
        opt("%(v)s", d, "name"),
        opt(_("编号 %(v)s"), d, "code"),
        opt(_("级别 %(v)s"), d, "level", lambda v: value(code, "level", v, n)),
        opt(_("上级 %(v)s"), d, "parent", lambda v: value(code, "parent", v, n)),
    )


@sentence("org.person.update", "org.unit.update")
def _changed(code: str, d: Used, n: Names) -> str:
    changed = d.get("changed")
    return _("修改 %(what)s") % {"what": changes_text(code, changed, n)} if changed else ""


@sentence("org.roster.import", "org.roster.export")
def _roster(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("单位 %(v)s"), d, "unit", lambda v: value(code, "unit", v, n)),
        opt(_("单位 %(v)s 个"), d, "units", lambda v: value(code, "units", v, n)),
        opt(_("人员 %(v)s 名"), d, "people", lambda v: value(code, "people", v, n)),
    )


# --- recordings: views, plays, copies ---------------------------------------------------


@sentence("evidence.recording.view")
def _view(code: str, d: Used, n: Names) -> str:
    return _via(d)


@sentence("evidence.recording.play")
def _play(code: str, d: Used, n: Names) -> str:
    derived = d.get("derived")
    what = _("播放派生播放副本") if derived else _("播放原始文件")
    return join(what, _via(d))


@sentence("evidence.recording.download")
def _download(code: str, d: Used, n: Names) -> str:
    basis = opt(_("依据调用单 %(v)s"), d, "request")
    return join(_("下载原始文件"), basis or _("未记录调用单"), _via(d))


@sentence("evidence.recording.refused")
def _refused(code: str, d: Used, n: Names) -> str:
    wanted = opt(_("请求%(v)s"), d, "wanted", lambda v: value(code, "wanted", v, n))
    reason = opt(_("原因：%(v)s"), d, "reason", lambda v: value(code, "reason", v, n))
    exists = "" if d.get("exists", True) else _("该声像记录不存在")
    return join(wanted, reason, exists, _via(d))


@sentence("access.request.create")
def _access_create(code: str, d: Used, n: Names) -> str:
    recs = d.get("recordings")
    count = _("%(n)s 条声像记录") % {"n": len(recs)} if isinstance(recs, list) else ""
    return join(
        opt(_("调用单 %(v)s"), d, "number"),
        count + (f"（{value(code, 'recordings', recs, n)}）" if count else ""),
        opt(_("案件 %(v)s"), d, "case"),
        opt(_("事由：%(v)s"), d, "purpose"),
    )


@sentence("access.request.approve")
def _access_approve(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("批准调用单 %(v)s"), d, "number"),
        opt(_("有效期至 %(v)s"), d, "valid_until", time_text),
        opt(_("意见：%(v)s"), d, "note"),
    )


@sentence("access.request.refuse")
def _access_refuse(code: str, d: Used, n: Names) -> str:
    return join(opt(_("拒绝调用单 %(v)s"), d, "number"), opt(_("理由：%(v)s"), d, "reason"))


@sentence("access.request.withdraw")
def _access_withdraw(code: str, d: Used, n: Names) -> str:
    return opt(_("撤回调用单 %(v)s"), d, "number")


@sentence("access.request.copy")
def _access_copy(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("依据调用单 %(v)s"), d, "number"),
        opt(_("复制 %(v)s"), d, "recording", lambda v: value(code, "recording", v, n)),
        _via(d),
    )


@sentence("access.request.provide")
def _access_provide(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("调用单 %(v)s"), d, "number"),
        opt(_("以%(v)s提供"), d, "medium", lambda v: value(code, "medium", v, n)),
        opt(_("共复制 %(v)s 次"), d, "copies"),
        opt(_("领取情况：%(v)s"), d, "recipient_note"),
    )


@sentence("transfer.disc.download")
def _disc_download(code: str, d: Used, n: Names) -> str:
    return opt(_("下载第 %(v)s 张光盘的映像"), d, "disc")


@sentence("audit.log.export")
def _audit_export(code: str, d: Used, n: Names) -> str:
    rows = opt(_("导出 %(v)s 条"), d, "rows")
    filters = opt(_("筛选条件：%(v)s"), d, "filters")
    return join(rows, filters or _("未筛选"))


# --- ingest ----------------------------------------------------------------------------


@sentence("ingest.recording.create")
def _ingest_recording(code: str, d: Used, n: Names) -> str:
    late = "" if d.get("collected_within_24h", True) else _("超过24小时才采集（C5.1）")
    mismatch = (
        _("文件名中的警号 %(no)s 与持有人不一致") % {"no": plain(d.get("user_no_in_name"))}
        if d.get("user_no_mismatch")
        else ""
    )
    d.take("user_no_in_name")
    return join(
        opt(_("原始文件 %(v)s"), d, "original_name"),
        opt(_("记录仪 %(v)s"), d, "recorder"),
        opt(_("执法人员 %(v)s"), d, "officer", lambda v: value(code, "officer", v, n)),
        opt(_("开始录制 %(v)s"), d, "started_at", time_text),
        opt(_("校正时钟偏差 %(v)s"), d, "clock_offset_seconds", seconds_text),
        opt(_("大小 %(v)s"), d, "size", size_text),
        late,
        mismatch,
        _via(d),
    )


@sentence("ingest.docking.open", "devices.recorder.check", "devices.event.battery")
@sentence("devices.event.storage", "devices.event.clock")
def _readings(code: str, d: Used, n: Names) -> str:
    free, total = d.get("storage_free_bytes"), d.get("storage_total_bytes")
    storage = ""
    if free is not None and total:
        storage = _("剩余存储 %(free)s / %(total)s") % {
            "free": size_text(free),
            "total": size_text(total),
        }
    elif free is not None:
        storage = _("剩余存储 %(free)s") % {"free": size_text(free)}
    return join(
        opt(_("记录仪 %(v)s"), d, "serial"),
        opt(_("持有人 %(v)s"), d, "holder", lambda v: value(code, "holder", v, n)),
        opt(_("电量 %(v)s%%"), d, "battery_pct"),
        storage,
        opt(_("校正时钟偏差 %(v)s"), d, "clock_offset_seconds", seconds_text),
        opt(_("发现文件 %(v)s 个"), d, "files_found"),
    )


@sentence("ingest.docking.finish")
def _docking_finish(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("发现文件 %(v)s 个"), d, "files_found"),
        opt(_("核验一致 %(v)s 个"), d, "files_verified"),
        opt(_("已存在 %(v)s 个"), d, "files_already_present"),
        opt(_("进入待处理区 %(v)s 个"), d, "files_flagged"),
        opt(_("失败 %(v)s 个"), d, "files_failed"),
    )


# --- devices ---------------------------------------------------------------------------


@sentence("devices.recorder.issue")
def _issue(code: str, d: Used, n: Names) -> str:
    who = plain(d.get("person_name")) if d.get("person_name") else _v(code, d, "person", n)
    no = opt(_("（警号 %(v)s）"), d, "user_no")
    d.take("person")
    return join(
        _("配发给 %(who)s%(no)s") % {"who": who, "no": no},
        opt(_("时间 %(v)s"), d, "at", time_text),
        opt(_("记录仪 %(v)s"), d, "serial"),
    )


@sentence("devices.recorder.return")
def _return(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("由 %(v)s 交回"), d, "person", lambda v: value(code, "person", v, n)),
        opt(_("时间 %(v)s"), d, "at", time_text),
        opt(_("记录仪 %(v)s"), d, "serial"),
    )


@sentence("devices.recorder.status")
def _status(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("记录仪 %(v)s"), d, "serial"),
        _("状态 %(old)s → %(new)s") % {"old": _v(code, d, "from", n), "new": _v(code, d, "to", n)},
    )


# --- casework --------------------------------------------------------------------------


@sentence("casework.annotate", "casework.reannotate")
def _annotate(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("执法活动 %(v)s"), d, "activity", lambda v: value(code, "activity", v, n)),
        opt(_("记录事项 %(v)s"), d, "step", lambda v: value(code, "step", v, n)),
        opt(_("标准名称 %(v)s"), d, "standard_name"),
        opt(_("清单序号 %(v)s"), d, "list_no"),
        opt(_("此前 %(v)s"), d, "before", lambda v: value(code, "before", v, n)),
        _("批量标注") if d.get("bulk") else "",
        renamed_text(d.get("renamed")),
    )


@sentence("casework.activity.update", "casework.case.update")
def _case_changes(code: str, d: Used, n: Names) -> str:
    changes = d.get("changes")
    return join(
        _("修改 %(what)s") % {"what": changes_text(code, changes, n)} if changes else "",
        renamed_text(d.get("renamed")),
    )


@sentence(
    "casework.rename",
    "casework.case.add_activity",
    "casework.case.remove_activity",
    "casework.case.reorder_activities",
    "casework.case.reorder_list",
)
def _renamed(code: str, d: Used, n: Names) -> str:
    d.take("order")
    return join(
        opt(_("执法活动 %(v)s"), d, "activity", lambda v: value(code, "activity", v, n)),
        renamed_text(d.get("renamed")),
    )


@sentence("casework.case.create")
def _case_create(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("案件 %(v)s"), d, "number"),
        opt(_("执法类别 %(v)s"), d, "category", lambda v: value(code, "category", v, n)),
        opt(_("承办人 %(v)s"), d, "handler", lambda v: value(code, "handler", v, n)),
        opt(_("单位 %(v)s"), d, "unit", lambda v: value(code, "unit", v, n)),
        opt(_("保存期限 %(v)s"), d, "retention", lambda v: value(code, "retention", v, n)),
    )


@sentence("casework.case.status")
def _case_status(code: str, d: Used, n: Names) -> str:
    return join(
        _("状态 %(old)s → %(new)s") % {"old": _v(code, d, "from", n), "new": _v(code, d, "to", n)},
        opt(_("结案原因 %(v)s"), d, "reason", lambda v: value(code, "reason", v, n)),
        _("未经法制审核") if d.get("without_review") else "",
        opt(_("说明：%(v)s"), d, "note"),
    )


@sentence("casework.recordlist.move")
def _recordlist_move(code: str, d: Used, n: Names) -> str:
    changed = d.get("changed") or []
    d.take("order")
    moves = []
    for c in changed if isinstance(changed, list) else []:
        if isinstance(c, dict):
            old, new = c.get("from"), c.get("to")
            old, new = (x if isinstance(x, dict) else {"name": x} for x in (old, new))
            moves.append(
                _("%(old_no)s 号 %(old)s → %(new_no)s 号 %(new)s")
                % {
                    "old_no": plain(old.get("no")),
                    "old": plain(old.get("name")),
                    "new_no": plain(new.get("no")),
                    "new": plain(new.get("name")),
                }
            )
    return join(opt(_("案件 %(v)s"), d, "case"), "；".join(moves))


# --- duty log --------------------------------------------------------------------------


@sentence(
    "dutylog.note.create", "dutylog.note.update", "dutylog.note.confirm", "dutylog.note.return"
)
def _note(code: str, d: Used, n: Names) -> str:
    span = _("%(start)s 至 %(end)s") % {
        "start": time_text(d.get("start")),
        "end": time_text(d.get("end")),
    }
    return join(
        opt("%(v)s", d, "officer", lambda v: value(code, "officer", v, n)),
        span,
        opt(_("无法记录：%(v)s"), d, "reason", lambda v: value(code, "reason", v, n)),
        _("修改后重新提交") if d.get("resubmitted") else "",
        opt(_("领导意见：%(v)s"), d, "leader_note"),
        opt(_("退回原因：%(v)s"), d, "return_reason"),
    )


# --- retention -------------------------------------------------------------------------


@sentence("retention.hold.place")
def _hold(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("保全%(v)s"), d, "kind", lambda v: value(code, "kind", v, n)),
        opt("%(v)s", d, "target"),
        opt(_("涉及 %(v)s 条声像记录"), d, "recordings"),
    )


@sentence("retention.disposal.propose")
def _disposal_propose(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("单位 %(v)s"), d, "unit", lambda v: value(code, "unit", v, n)),
        opt(_("到期 %(v)s 条"), d, "items"),
        opt(_("截至 %(v)s"), d, "cutoff"),
    )


@sentence("retention.disposal.execute")
def _disposal_execute(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("销毁 %(v)s 条"), d, "disposed"),
        opt(_("保留 %(v)s 条"), d, "kept"),
        opt(_("删除存储对象 %(v)s 个"), d, "objects"),
    )


# --- system ----------------------------------------------------------------------------


@sentence("evidence.media.processed")
def _processed(code: str, d: Used, n: Names) -> str:
    changed = d.get("changed")
    fields = field_names("evidence.mediainfo", changed) if changed else ""
    derivatives = d.get("derivatives")
    kinds = (
        [x.get("kind") for x in derivatives if isinstance(x, dict)]
        if isinstance(derivatives, list)
        else []
    )
    if not kinds:
        d.used.discard("derivatives")  # said as it is, below
    d.take("attempts")
    return join(
        opt(_("完整性 %(v)s"), d, "integrity", lambda v: value(code, "integrity", v, n)),
        opt("%(v)s", d, "integrity_reason"),
        _("识别了 %(f)s") % {"f": fields} if fields else "",
        _("生成派生文件 %(k)s") % {"k": "、".join(_derivative(k) for k in kinds)} if kinds else "",
        _("更新声像记录 %(c)s")
        % {"c": changes_text(code, d.get("recording"), n, model="evidence.recording")}
        if d.get("recording")
        else "",
    )


def _derivative(kind: Any) -> str:
    from jilu.evidence.media_models import Derivative

    return str(dict(Derivative.Kind.choices).get(kind, kind))
