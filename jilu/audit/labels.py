"""What audit entries mean, in words: one table for every page that shows them.

Codes (``evidence.recording.play``) and actor labels (``station:2:名称``,
``system:media``) are stable identifiers for machines and for ``jilu verify``;
people read the phrases below (home pages, a recording's custody chain, the
audit log). A code missing here is shown as itself, so nothing is hidden.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ACTION_LABELS = {
    "auth.login": gettext_lazy("登录"),
    "auth.logout": gettext_lazy("退出登录"),
    "auth.login_failed": gettext_lazy("登录失败"),
    "auth.locked_out": gettext_lazy("账号因连续登录失败被锁定"),
    "auth.login_locked": gettext_lazy("锁定期间尝试登录"),
    "auth.token_issued": gettext_lazy("签发 API 令牌"),
    "org.roster.import": gettext_lazy("导入名册"),
    "org.roster.export": gettext_lazy("导出名册"),
    "org.person.password_change": gettext_lazy("修改本人密码"),
    "org.person.password_reset": gettext_lazy("重置他人密码"),
    "org.person.create": gettext_lazy("新建人员"),
    "org.person.update": gettext_lazy("修改人员信息"),
    "org.unit.create": gettext_lazy("新建单位"),
    "org.unit.update": gettext_lazy("修改单位信息"),
    "devices.recorder.register": gettext_lazy("登记记录仪"),
    "devices.recorder.issue": gettext_lazy("配发记录仪"),
    "devices.recorder.return": gettext_lazy("收回记录仪"),
    "devices.recorder.status": gettext_lazy("变更记录仪状态"),
    "devices.recorder.check": gettext_lazy("记录仪检查"),
    "devices.workstation.create": gettext_lazy("登记采集工作站"),
    "devices.workstation.token": gettext_lazy("设定工作站令牌"),
    "devices.workstation.reissue": gettext_lazy("重新生成工作站令牌"),
    "devices.workstation.revoke": gettext_lazy("停用采集工作站"),
    "ingest.docking.open": gettext_lazy("开始对接"),
    "ingest.docking.finish": gettext_lazy("结束对接"),
    "ingest.upload.create": gettext_lazy("开始上传文件"),
    "ingest.upload.complete": gettext_lazy("文件上传完成"),
    "ingest.upload.reject": gettext_lazy("上传校验不一致，已丢弃"),
    "ingest.upload.expire": gettext_lazy("上传过期"),
    "ingest.upload.terminate": gettext_lazy("上传被终止"),
    "ingest.recording.create": gettext_lazy("入库：哈希核验一致，登记为声像记录"),
    "ingest.recording.again": gettext_lazy("再次对接：相同字节，未重复登记"),
    "ingest.quarantine.create": gettext_lazy("文件进入待处理区"),
    "ingest.quarantine.again": gettext_lazy("待处理文件再次送达"),
    "ingest.quarantine.attribute": gettext_lazy("待处理文件归属确认"),
    "ingest.quarantine.close": gettext_lazy("待处理文件处理完毕"),
    "evidence.object.store": gettext_lazy("存入证据存储"),
    "evidence.recording.view": gettext_lazy("查看"),
    "evidence.recording.play": gettext_lazy("播放"),
    "evidence.recording.download": gettext_lazy("下载原始文件"),
    "evidence.recording.refused": gettext_lazy("拒绝访问（超出权限范围）"),
    "evidence.media.processed": gettext_lazy("媒体处理完成（检测、封面、播放副本）"),
    "evidence.media.failed": gettext_lazy("媒体处理失败"),
    "evidence.media.retry": gettext_lazy("媒体处理重试"),
    "evidence.media.requeue": gettext_lazy("重新排队媒体处理"),
    "evidence.fixity.alarm": gettext_lazy("固定性告警：哈希不一致或对象缺失"),
    "evidence.fixity.acknowledge": gettext_lazy("确认固定性告警"),
    "casework.powers.import": gettext_lazy("导入权责清单"),
    "casework.activity.create": gettext_lazy("新建执法活动"),
    "casework.activity.update": gettext_lazy("修改执法活动"),
    "casework.annotate": gettext_lazy("标注声像记录"),
    "casework.reannotate": gettext_lazy("重新标注声像记录"),
    "casework.rename": gettext_lazy("按标准命名"),
    "casework.party.create": gettext_lazy("登记当事人"),
    "casework.case.create": gettext_lazy("新建案件"),
    "casework.case.update": gettext_lazy("修改案件"),
    "casework.case.status": gettext_lazy("变更案件状态"),
    "casework.case.add_activity": gettext_lazy("案件关联执法活动"),
    "casework.case.remove_activity": gettext_lazy("案件移除执法活动"),
    "casework.case.reorder_activities": gettext_lazy("调整案件中执法活动的顺序"),
    "casework.case.reorder_list": gettext_lazy("调整音像记录事项清单顺序"),
    "casework.recordlist.move": gettext_lazy("调整音像记录事项清单顺序"),
    "transfer.package.request": gettext_lazy("申请制作光盘包"),
    "transfer.package.start": gettext_lazy("开始制作光盘包"),
    "transfer.package.ready": gettext_lazy("光盘包制作完成"),
    "transfer.package.failed": gettext_lazy("光盘包制作失败"),
    "transfer.package.verify": gettext_lazy("核验光盘包"),
    "transfer.disc.download": gettext_lazy("下载光盘映像"),
    "transfer.case.transfer": gettext_lazy("移送法制部门"),
    "transfer.review.mark": gettext_lazy("案审标记"),
    "transfer.review.decide": gettext_lazy("案审决定"),
}

SYSTEM_ACTORS = {
    "system": gettext_lazy("系统"),
    "system:media": gettext_lazy("系统（媒体处理）"),
    "system:fixity": gettext_lazy("系统（固定性校验）"),
    "system:ingest": gettext_lazy("系统（采集）"),
    "system:transfer": gettext_lazy("系统（光盘包）"),
    "system:seed-demo": gettext_lazy("系统（演示数据）"),
    "system:seed-scale": gettext_lazy("系统（压力测试数据）"),
    "system:import_powers": gettext_lazy("系统（导入权责清单）"),
}

# Keys of ``details`` people recognise; the rest are shown as they are.
DETAIL_LABELS = {
    "ip": gettext_lazy("地址"),
    "via": gettext_lazy("途径"),
    "derived": gettext_lazy("派生副本"),
    "sha256": "SHA-256",
    "sm3": "SM3",
    "wanted": gettext_lazy("请求"),
    "reason": gettext_lazy("原因"),
    "status": gettext_lazy("状态"),
    "serial": gettext_lazy("记录仪"),
    "filename": gettext_lazy("文件名"),
    "size": gettext_lazy("大小"),
}


def action_label(code: str) -> str:
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
        return _("采集工作站 %(name)s") % {"name": name}
    if kind == "system":
        return _("系统（%(part)s）") % {"part": rest}
    return label


def details_text(details: Any) -> str:
    """An entry's details as ``地址 127.0.0.1 · 途径 web`` rather than a Python dict."""
    if not details:
        return ""
    if not isinstance(details, dict):
        return str(details)
    parts = []
    for key, value in details.items():
        if isinstance(value, bool):
            value = _("是") if value else _("否")
        elif isinstance(value, list | tuple):
            value = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = details_text(value)
        label = DETAIL_LABELS.get(key)
        parts.append(f"{label if label is not None else key} {value}")
    return " · ".join(parts)
