"""What audit entries mean, in words: one table for every page that shows them.

The phrases carry the translation context ``audit``: the same Chinese words are
page titles and buttons elsewhere (新建人员 "New person" there, "Created a
person" here).

Codes (``evidence.recording.play``) and actor labels (``station:2:名称``,
``system:media``) are stable identifiers for machines and for ``jilu verify``;
people read the phrases below (home pages, a recording's custody chain, the
audit log). A code missing here is shown as itself, so nothing is hidden.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

ACTION_LABELS = {
    "auth.login": pgettext_lazy("audit", "登录"),
    "auth.logout": pgettext_lazy("audit", "退出登录"),
    "auth.login_failed": pgettext_lazy("audit", "登录失败"),
    "auth.locked_out": pgettext_lazy("audit", "账号因连续登录失败被锁定"),
    "auth.login_locked": pgettext_lazy("audit", "锁定期间尝试登录"),
    "auth.throttled": pgettext_lazy("audit", "同一地址登录失败过多，暂停登录"),
    "auth.token_issued": pgettext_lazy("audit", "签发 API 令牌"),
    "org.roster.import": pgettext_lazy("audit", "导入名册"),
    "org.roster.export": pgettext_lazy("audit", "导出名册"),
    "org.person.password_change": pgettext_lazy("audit", "修改本人密码"),
    "org.person.password_reset": pgettext_lazy("audit", "重置他人密码"),
    "org.person.create": pgettext_lazy("audit", "新建人员"),
    "org.person.update": pgettext_lazy("audit", "修改人员信息"),
    "org.unit.create": pgettext_lazy("audit", "新建单位"),
    "org.unit.update": pgettext_lazy("audit", "修改单位信息"),
    "devices.recorder.register": pgettext_lazy("audit", "登记记录仪"),
    "devices.recorder.issue": pgettext_lazy("audit", "配发记录仪"),
    "devices.recorder.return": pgettext_lazy("audit", "收回记录仪"),
    "devices.recorder.status": pgettext_lazy("audit", "变更记录仪状态"),
    "devices.recorder.check": pgettext_lazy("audit", "记录仪检查"),
    "devices.workstation.create": pgettext_lazy("audit", "登记采集工作站"),
    "devices.workstation.token": pgettext_lazy("audit", "设定工作站令牌"),
    "devices.workstation.reissue": pgettext_lazy("audit", "重新生成工作站令牌"),
    "devices.workstation.revoke": pgettext_lazy("audit", "停用采集工作站"),
    "ingest.docking.open": pgettext_lazy("audit", "开始对接"),
    "ingest.docking.finish": pgettext_lazy("audit", "结束对接"),
    "ingest.upload.create": pgettext_lazy("audit", "开始上传文件"),
    "ingest.upload.complete": pgettext_lazy("audit", "文件上传完成"),
    "ingest.upload.reject": pgettext_lazy("audit", "上传校验不一致，已丢弃"),
    "ingest.upload.expire": pgettext_lazy("audit", "上传过期"),
    "ingest.upload.terminate": pgettext_lazy("audit", "上传被终止"),
    "ingest.recording.create": pgettext_lazy("audit", "入库：哈希核验一致，登记为声像记录"),
    "ingest.recording.again": pgettext_lazy("audit", "再次对接：相同字节，未重复登记"),
    "ingest.quarantine.create": pgettext_lazy("audit", "文件进入待处理区"),
    "ingest.quarantine.again": pgettext_lazy("audit", "待处理文件再次送达"),
    "ingest.quarantine.attribute": pgettext_lazy("audit", "待处理文件归属确认"),
    "ingest.quarantine.close": pgettext_lazy("audit", "待处理文件处理完毕"),
    "evidence.object.store": pgettext_lazy("audit", "存入证据存储"),
    "evidence.recording.view": pgettext_lazy("audit", "查看"),
    "evidence.recording.play": pgettext_lazy("audit", "播放"),
    "evidence.recording.download": pgettext_lazy("audit", "下载原始文件"),
    "evidence.recording.refused": pgettext_lazy("audit", "拒绝访问（超出权限范围）"),
    "evidence.media.processed": pgettext_lazy("audit", "媒体处理完成（检测、封面、播放副本）"),
    "evidence.media.failed": pgettext_lazy("audit", "媒体处理失败"),
    "evidence.media.retry": pgettext_lazy("audit", "媒体处理重试"),
    "evidence.media.requeue": pgettext_lazy("audit", "重新排队媒体处理"),
    "evidence.fixity.alarm": pgettext_lazy("audit", "固定性告警：哈希不一致或对象缺失"),
    "evidence.fixity.acknowledge": pgettext_lazy("audit", "确认固定性告警"),
    "dutylog.note.create": pgettext_lazy("audit", "填写执勤日志无法记录情况"),
    "dutylog.note.update": pgettext_lazy("audit", "修改执勤日志无法记录情况"),
    "dutylog.note.confirm": pgettext_lazy("audit", "确认执勤日志无法记录情况"),
    "dutylog.note.return": pgettext_lazy("audit", "退回执勤日志无法记录情况"),
    "casework.powers.import": pgettext_lazy("audit", "导入权责清单"),
    "casework.activity.create": pgettext_lazy("audit", "新建执法活动"),
    "casework.activity.update": pgettext_lazy("audit", "修改执法活动"),
    "casework.annotate": pgettext_lazy("audit", "标注声像记录"),
    "casework.reannotate": pgettext_lazy("audit", "重新标注声像记录"),
    "casework.rename": pgettext_lazy("audit", "按标准命名"),
    "casework.party.create": pgettext_lazy("audit", "登记当事人"),
    "casework.case.create": pgettext_lazy("audit", "新建案件"),
    "casework.case.update": pgettext_lazy("audit", "修改案件"),
    "casework.case.status": pgettext_lazy("audit", "变更案件状态"),
    "casework.case.add_activity": pgettext_lazy("audit", "案件关联执法活动"),
    "casework.case.remove_activity": pgettext_lazy("audit", "案件移除执法活动"),
    "casework.case.reorder_activities": pgettext_lazy("audit", "调整案件中执法活动的顺序"),
    "casework.case.reorder_list": pgettext_lazy("audit", "调整音像记录事项清单顺序"),
    "casework.recordlist.move": pgettext_lazy("audit", "调整音像记录事项清单顺序"),
    "transfer.package.request": pgettext_lazy("audit", "申请制作光盘包"),
    "transfer.package.start": pgettext_lazy("audit", "开始制作光盘包"),
    "transfer.package.ready": pgettext_lazy("audit", "光盘包制作完成"),
    "transfer.package.failed": pgettext_lazy("audit", "光盘包制作失败"),
    "transfer.package.verify": pgettext_lazy("audit", "核验光盘包"),
    "transfer.disc.download": pgettext_lazy("audit", "下载光盘映像"),
    "transfer.case.transfer": pgettext_lazy("audit", "移送法制部门"),
    "transfer.review.mark": pgettext_lazy("audit", "案审标记"),
    "transfer.review.decide": pgettext_lazy("audit", "案审决定"),
    "access.request.create": pgettext_lazy("audit", "提交调用申请"),
    "access.request.approve": pgettext_lazy("audit", "批准调用申请"),
    "access.request.refuse": pgettext_lazy("audit", "拒绝调用申请"),
    "access.request.withdraw": pgettext_lazy("audit", "撤回调用申请"),
    "access.request.copy": pgettext_lazy("audit", "按调用单复制原始文件"),
    "access.request.provide": pgettext_lazy("audit", "登记提供复制件"),
    "access.copy.identify": pgettext_lazy("audit", "识别副本"),
    "access.package.download": pgettext_lazy("audit", "下载调用复制件包"),
    "evidence.object.dispose": pgettext_lazy("audit", "销毁存储对象（留有销毁记录）"),
    "org.workbook.upload": pgettext_lazy("audit", "上传工作簿"),
    "org.workbook.confirm": pgettext_lazy("audit", "确认导入工作簿"),
    "retention.hold.place": pgettext_lazy("audit", "设置保全"),
    "retention.hold.release_request": pgettext_lazy("audit", "申请解除保全"),
    "retention.hold.release": pgettext_lazy("audit", "批准解除保全"),
    "retention.disposal.propose": pgettext_lazy("audit", "生成销毁清单"),
    "retention.disposal.review": pgettext_lazy("audit", "审核销毁清单"),
    "retention.disposal.approve": pgettext_lazy("audit", "批准销毁清单"),
    "retention.disposal.refuse": pgettext_lazy("audit", "驳回销毁清单"),
    "retention.disposal.execute": pgettext_lazy("audit", "执行销毁"),
    "oversight.ledger.confirm": pgettext_lazy("audit", "确认月度台账"),
}

SYSTEM_ACTORS = {
    "system": pgettext_lazy("audit", "系统"),
    "system:media": pgettext_lazy("audit", "系统（媒体处理）"),
    "system:fixity": pgettext_lazy("audit", "系统（固定性校验）"),
    "system:ingest": pgettext_lazy("audit", "系统（采集）"),
    "system:transfer": pgettext_lazy("audit", "系统（光盘包）"),
    "system:seed-demo": pgettext_lazy("audit", "系统（演示数据）"),
    "system:seed-scale": pgettext_lazy("audit", "系统（压力测试数据）"),
    "system:import_powers": pgettext_lazy("audit", "系统（导入权责清单）"),
}

# Keys of ``details`` people recognise; the rest are shown as they are.
DETAIL_LABELS = {
    "ip": pgettext_lazy("audit", "地址"),
    "via": pgettext_lazy("audit", "途径"),
    "derived": pgettext_lazy("audit", "派生副本"),
    "sha256": "SHA-256",
    "sm3": "SM3",
    "wanted": pgettext_lazy("audit", "请求"),
    "reason": pgettext_lazy("audit", "原因"),
    "status": pgettext_lazy("audit", "状态"),
    "serial": pgettext_lazy("audit", "记录仪"),
    "filename": pgettext_lazy("audit", "文件名"),
    "size": pgettext_lazy("audit", "大小"),
    "exists": pgettext_lazy("audit", "记录存在"),
    "number": pgettext_lazy("audit", "调用单号"),
    "request": pgettext_lazy("audit", "调用单"),
    "note": pgettext_lazy("audit", "意见"),
    "valid_until": pgettext_lazy("audit", "有效期至"),
    "medium": pgettext_lazy("audit", "介质"),
    "recipient_note": pgettext_lazy("audit", "领取情况"),
    "copies": pgettext_lazy("audit", "复制次数"),
    "recordings": pgettext_lazy("audit", "声像记录"),
    "recording": pgettext_lazy("audit", "声像记录"),
    "case": pgettext_lazy("audit", "案件"),
    "purpose": pgettext_lazy("audit", "事由"),
    "problem": pgettext_lazy("audit", "问题"),
    "check": pgettext_lazy("audit", "校验编号"),
}

# Coded values people should not have to decode.
VALUE_LABELS = {
    ("wanted", "download"): pgettext_lazy("audit value", "下载原始文件"),
    ("wanted", "play"): pgettext_lazy("audit value", "播放"),
    ("wanted", "view"): pgettext_lazy("audit value", "查看"),
    ("reason", "no_approved_request"): pgettext_lazy("audit value", "无已批准的调用单（C6.3）"),
    ("reason", "whole_object"): pgettext_lazy(
        "audit value", "播放请求整份文件（未分段读取），按复制处理（C6.3）"
    ),
    ("wanted", "derived:poster"): pgettext_lazy("audit value", "派生文件：封面帧"),
    ("wanted", "derived:strip"): pgettext_lazy("audit value", "派生文件：缩略图条"),
    ("wanted", "derived:waveform"): pgettext_lazy("audit value", "派生文件：波形图"),
    ("wanted", "derived:preview"): pgettext_lazy("audit value", "派生文件：照片预览"),
    ("medium", "disc"): pgettext_lazy("audit value", "光盘"),
    ("medium", "usb"): pgettext_lazy("audit value", "U盘"),
    ("medium", "hdd"): pgettext_lazy("audit value", "移动硬盘"),
    ("medium", "network"): pgettext_lazy("audit value", "网络传输"),
    ("via", "web"): pgettext_lazy("audit value", "网页"),
    ("via", "api"): "API",
}


def action_label(code: str, details: Any = None) -> str:
    """The phrase for an entry; a refused download says why (no approved request)."""
    if (
        code == "evidence.recording.refused"
        and isinstance(details, dict)
        and details.get("wanted") == "download"
        and details.get("reason") == "no_approved_request"
    ):
        return str(pgettext_lazy("audit", "拒绝复制原始文件（无已批准的调用单，C6.3）"))
    if (
        code == "evidence.recording.refused"
        and isinstance(details, dict)
        and details.get("reason") == "whole_object"
    ):
        return str(pgettext_lazy("audit", "拒绝整份获取（播放只能分段读取，复制须调用单，C6.3）"))
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def actor_text(label: str) -> str:
    """``station:2:名称`` → ``采集工作站 名称``; ``system:media`` → ``系统（媒体处理）``."""
    if not label:
        return ""
    if label in SYSTEM_ACTORS:
        return str(SYSTEM_ACTORS[label])
    kind, _sep, rest = label.partition(":")
    if kind == "station" and rest:
        name = rest.partition(":")[2] or rest
        return pgettext("audit", "采集工作站 %(name)s") % {"name": name}
    if kind == "system":
        return pgettext("audit", "系统（%(part)s）") % {"part": rest}
    return label


def _value_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return details_text(value)
    label = VALUE_LABELS.get((key, value)) if isinstance(value, str) else None
    if label is not None:
        return str(label)
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:  # stored UTC, shown in Beijing time
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(value)


def details_text(details: Any) -> str:
    """An entry's details as ``地址 127.0.0.1 · 途径 网页`` rather than a Python dict;
    empty values are left out, times are shown in Beijing time."""
    if not details:
        return ""
    if not isinstance(details, dict):
        return str(details)
    parts = []
    for key, value in details.items():
        if value in ("", None, [], {}):
            continue
        label = DETAIL_LABELS.get(key)
        parts.append(f"{label if label is not None else key} {_value_text(key, value)}")
    return " · ".join(parts)
