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
    "evidence.fixity.repin": pgettext_lazy("audit", "对象恢复后字节核验一致，登记其新存储版本"),
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
    "devices.event.battery": pgettext_lazy("audit", "登记记录仪电量检查"),
    "devices.event.storage": pgettext_lazy("audit", "登记记录仪存储检查"),
    "devices.event.clock": pgettext_lazy("audit", "登记记录仪时钟检查"),
    "devices.event.fault": pgettext_lazy("audit", "登记记录仪故障"),
    "devices.event.repair": pgettext_lazy("audit", "登记记录仪维修"),
    "devices.event.loss": pgettext_lazy("audit", "登记记录仪遗失"),
    "devices.event.damage": pgettext_lazy("audit", "登记记录仪损坏"),
    "devices.event.found": pgettext_lazy("audit", "登记记录仪找回"),
    "org.workbook.upload": pgettext_lazy("audit", "上传名册工作簿"),
    "org.workbook.confirm": pgettext_lazy("audit", "确认导入名册工作簿"),
    "org.workbook.refused": pgettext_lazy("audit", "名册工作簿被拒绝"),
    "org.workbook.failed": pgettext_lazy("audit", "名册工作簿读取失败"),
    "retention.hold.place": pgettext_lazy("audit", "设置保全"),
    "retention.hold.release_request": pgettext_lazy("audit", "申请解除保全"),
    "retention.hold.release": pgettext_lazy("audit", "解除保全"),
    "access.copy.identify": pgettext_lazy("audit", "识别副本"),
    "access.package.download": pgettext_lazy("audit", "下载调用复制件包"),
    "retention.disposal.propose": pgettext_lazy("audit", "生成销毁清单"),
    "retention.disposal.review": pgettext_lazy("audit", "审核销毁清单"),
    "retention.disposal.approve": pgettext_lazy("audit", "批准销毁清单"),
    "retention.disposal.refuse": pgettext_lazy("audit", "驳回销毁清单"),
    "retention.disposal.execute": pgettext_lazy("audit", "执行销毁"),
    "evidence.object.dispose": pgettext_lazy("audit", "按销毁清单删除存储对象（留存销毁记录）"),
    "audit.log.export": pgettext_lazy("audit", "导出审计日志"),
    "audit.restore": pgettext_lazy("audit", "数据库从备份恢复：确认备份之后的审计记录已丢失"),
    "oversight.ledger.confirm": pgettext_lazy("audit", "确认月度台账"),
    "access.copy.return": pgettext_lazy("audit", "登记复制件已归还"),
    "access.copy.destroy": pgettext_lazy("audit", "登记复制件已销毁"),
    "access.package.start": pgettext_lazy("audit", "开始制作调用复制件包"),
    "access.package.ready": pgettext_lazy("audit", "调用复制件包制作完成"),
    "access.package.failed": pgettext_lazy("audit", "调用复制件包制作失败"),
    "access.request.fulfil": pgettext_lazy("audit", "按调用单制作复制件"),
    "oversight.finding.open": pgettext_lazy("audit", "督察发现：新发现"),
    "oversight.finding.facts": pgettext_lazy("audit", "督察发现：补充事实"),
    "oversight.finding.explain": pgettext_lazy("audit", "督察发现：作出说明"),
    "oversight.finding.confirm": pgettext_lazy("audit", "督察发现：确认"),
    "oversight.finding.dismiss": pgettext_lazy("audit", "督察发现：撤销"),
    "oversight.setting.change": pgettext_lazy("audit", "修改督察规则设置"),
    "oversight.spotcheck.draw": pgettext_lazy("audit", "抽检：抽取样本"),
    "oversight.spotcheck.review": pgettext_lazy("audit", "抽检：检查抽检项"),
    "oversight.spotcheck.complete": pgettext_lazy("audit", "抽检：完成"),
    "oversight.spotcheck.verify": pgettext_lazy("audit", "抽检：重新抽取并比对"),
    "oversight.report.draft": pgettext_lazy("audit", "起草通报"),
    "oversight.report.publish": pgettext_lazy("audit", "发布通报（固定 PDF 和 XLSX）"),
    "web.seed_scale.done": pgettext_lazy("audit", "生成压力测试数据（一年全市规模）"),
}

# Families an inspector filters by (C6.4). Each code belongs to the family of the
# longest prefix it starts with, so "org.roster.export" is a copy, not "people".
FAMILIES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "auth": (pgettext_lazy("audit family", "登录与账号"), ("auth.", "org.person.password_")),
    "org": (pgettext_lazy("audit family", "人员与单位"), ("org.", "web.seed_scale.")),
    "ingest": (pgettext_lazy("audit family", "采集入库"), ("ingest.", "evidence.object.store")),
    "view": (
        pgettext_lazy("audit family", "声像记录查看与播放"),
        ("evidence.recording.view", "evidence.recording.play", "evidence.recording.refused"),
    ),
    "copy": (
        pgettext_lazy("audit family", "复制与下载"),
        (
            "evidence.recording.download",
            "access.request.copy",
            "access.request.provide",
            "transfer.disc.download",
            "org.roster.export",
            "audit.log.export",
            "access.package.",
            "access.copy.",
            "access.request.fulfil",
        ),
    ),
    "annotation": (
        pgettext_lazy("audit family", "标注与执法活动"),
        (
            "casework.annotate",
            "casework.reannotate",
            "casework.rename",
            "casework.activity.",
            "casework.party.",
            "casework.powers.",
        ),
    ),
    "case": (pgettext_lazy("audit family", "案件"), ("casework.case.", "casework.recordlist.")),
    "transfer": (pgettext_lazy("audit family", "移送与案审"), ("transfer.",)),
    "access": (pgettext_lazy("audit family", "调用申请"), ("access.",)),
    "retention": (
        pgettext_lazy("audit family", "保全与销毁"),
        ("retention.", "evidence.object.dispose"),
    ),
    "oversight": (pgettext_lazy("audit family", "督察"), ("oversight.",)),
    "devices": (pgettext_lazy("audit family", "设备"), ("devices.",)),
    "dutylog": (pgettext_lazy("audit family", "执勤日志"), ("dutylog.",)),
    "system": (
        pgettext_lazy("audit family", "系统"),
        ("evidence.media.", "evidence.fixity.", "audit."),
    ),
}


def family_of(code: str) -> str:
    """The family key of ``code`` (longest matching prefix), or "" for none."""
    best, length = "", 0
    for key, (_label, prefixes) in FAMILIES.items():
        for prefix in prefixes:
            if code.startswith(prefix) and len(prefix) > length:
                best, length = key, len(prefix)
    return best


def family_codes(key: str) -> list[str]:
    """Every labelled code of family ``key``, for filtering."""
    return sorted(code for code in ACTION_LABELS if family_of(code) == key)


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

# Keys of ``details`` in words, for whatever a sentence does not say itself.
DETAIL_LABELS = {
    "key": pgettext_lazy("audit", "发现编号"),
    "unit_code": pgettext_lazy("audit", "单位编号"),
    "rows_sha256": pgettext_lazy("audit", "台账 SHA-256"),
    "pdf_sha256": pgettext_lazy("audit", "PDF SHA-256"),
    "xlsx_sha256": pgettext_lazy("audit", "XLSX SHA-256"),
    "redrafted": pgettext_lazy("audit", "重新起草"),
    "unit_name": pgettext_lazy("audit", "单位名称"),
    "recording_rows": pgettext_lazy("audit", "记录台账行数"),
    "recorders": pgettext_lazy("audit", "记录仪数"),
    "year": pgettext_lazy("audit", "年"),
    "month": pgettext_lazy("audit", "月"),
    "explained_by": pgettext_lazy("audit", "说明人"),
    "setting": pgettext_lazy("audit", "设置"),
    "value": pgettext_lazy("audit", "值"),
    "clauses": pgettext_lazy("audit", "条款"),
    "count": pgettext_lazy("audit", "数量"),
    "state": pgettext_lazy("audit", "状态"),
    "outcome": pgettext_lazy("audit", "结论"),
    "facts": pgettext_lazy("audit", "事实"),
    "text": pgettext_lazy("audit", "内容"),
    "old": pgettext_lazy("audit", "原值"),
    "subject": pgettext_lazy("audit", "对象"),
    "period": pgettext_lazy("audit", "期间"),
    "attachment": pgettext_lazy("audit", "附件"),
    "until": pgettext_lazy("audit", "截止时间"),
    "since": pgettext_lazy("audit", "起始时间"),
    "counted_as": pgettext_lazy("audit", "计数地址段"),
    "recipient": pgettext_lazy("audit", "接收人"),
    "use": pgettext_lazy("audit", "用途"),
    "zip_sha256": pgettext_lazy("audit", "复制件包 SHA-256"),
    "found": pgettext_lazy("audit", "结果"),
    "requests": pgettext_lazy("audit", "涉及的调用单"),
    "asked": pgettext_lazy("audit", "查询内容"),
    "copy_id": pgettext_lazy("audit", "副本编号"),
    "ip": pgettext_lazy("audit", "地址"),
    "via": pgettext_lazy("audit", "途径"),
    "derived": pgettext_lazy("audit", "派生副本"),
    "sha256": "SHA-256",
    "sm3": "SM3",
    "wanted": pgettext_lazy("audit", "请求"),
    "reason": pgettext_lazy("audit", "原因"),
    "lost_from": pgettext_lazy("audit", "丢失的第一条记录"),
    "lost_to": pgettext_lazy("audit", "丢失的最后一条记录"),
    "checkpoint": pgettext_lazy("audit", "检查点编号"),
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
    "activity": pgettext_lazy("audit", "执法活动"),
    "again": pgettext_lazy("audit", "再次对接"),
    "altered": pgettext_lazy("audit", "内容不一致的文件"),
    "annotation": pgettext_lazy("audit", "标注"),
    "approved_at": pgettext_lazy("audit", "批准时间"),
    "approved_by": pgettext_lazy("audit", "批准人"),
    "at": pgettext_lazy("audit", "时间"),
    "attempt": pgettext_lazy("audit", "第几次尝试"),
    "attempts": pgettext_lazy("audit", "尝试次数"),
    "backend": pgettext_lazy("audit", "存储类型"),
    "battery_pct": pgettext_lazy("audit", "电量（%）"),
    "before": pgettext_lazy("audit", "此前"),
    "bulk": pgettext_lazy("audit", "批量"),
    "category": pgettext_lazy("audit", "类别"),
    "changed": pgettext_lazy("audit", "变更"),
    "changes": pgettext_lazy("audit", "变更"),
    "clause": pgettext_lazy("audit", "条款"),
    "clock_offset_seconds": pgettext_lazy("audit", "时钟偏差（秒）"),
    "collected_within_24h": pgettext_lazy("audit", "24小时内采集"),
    "coverage_acknowledged": pgettext_lazy("audit", "已确认录制缺口"),
    "coverage_warnings": pgettext_lazy("audit", "录制缺口提示"),
    "cutoff": pgettext_lazy("audit", "截止日期"),
    "decision": pgettext_lazy("audit", "决定"),
    "declared_sha256": pgettext_lazy("audit", "申报的 SHA-256"),
    "declared_sm3": pgettext_lazy("audit", "申报的 SM3"),
    "derivatives": pgettext_lazy("audit", "派生文件"),
    "detail": pgettext_lazy("audit", "详情"),
    "digest": pgettext_lazy("audit", "预览摘要"),
    "disc": pgettext_lazy("audit", "光盘"),
    "discs": pgettext_lazy("audit", "光盘"),
    "disposal": pgettext_lazy("audit", "销毁清单"),
    "disposed": pgettext_lazy("audit", "已销毁"),
    "docking": pgettext_lazy("audit", "对接"),
    "end": pgettext_lazy("audit", "结束"),
    "error": pgettext_lazy("audit", "错误"),
    "event": pgettext_lazy("audit", "事件编号"),
    "events": pgettext_lazy("audit", "事件编号"),
    "excluded": pgettext_lazy("audit", "排除的条目"),
    "extra": pgettext_lazy("audit", "多出的文件"),
    "files_already_present": pgettext_lazy("audit", "已存在的文件"),
    "files_failed": pgettext_lazy("audit", "失败的文件"),
    "files_flagged": pgettext_lazy("audit", "待处理的文件"),
    "files_found": pgettext_lazy("audit", "发现的文件"),
    "files_verified": pgettext_lazy("audit", "核验一致的文件"),
    "from": pgettext_lazy("audit", "原值"),
    "gave_up": pgettext_lazy("audit", "已放弃"),
    "handler": pgettext_lazy("audit", "承办人"),
    "holder": pgettext_lazy("audit", "持有人"),
    "holder_from_history": pgettext_lazy("audit", "按配发记录确定的持有人"),
    "info_problem": pgettext_lazy("audit", "设备信息问题"),
    "integrity": pgettext_lazy("audit", "完整性"),
    "integrity_reason": pgettext_lazy("audit", "完整性说明"),
    "iso_sha256": pgettext_lazy("audit", "光盘映像 SHA-256"),
    "items": pgettext_lazy("audit", "条目数"),
    "kept": pgettext_lazy("audit", "保留"),
    "kind": pgettext_lazy("audit", "类型"),
    "leader_note": pgettext_lazy("audit", "领导意见"),
    "length": pgettext_lazy("audit", "长度"),
    "list_no": pgettext_lazy("audit", "清单序号"),
    "locked_until": pgettext_lazy("audit", "锁定至"),
    "manifest_sha256": pgettext_lazy("audit", "清单 SHA-256"),
    "missing": pgettext_lazy("audit", "缺失的文件"),
    "model": pgettext_lazy("audit", "型号"),
    "name": pgettext_lazy("audit", "名称"),
    "names": pgettext_lazy("audit", "文件名"),
    "new": pgettext_lazy("audit", "新登记"),
    "new_bytes": pgettext_lazy("audit", "新写入"),
    "objects": pgettext_lazy("audit", "存储对象"),
    "officer": pgettext_lazy("audit", "执法人员"),
    "officers": pgettext_lazy("audit", "执法人员"),
    "offset": pgettext_lazy("audit", "已上传"),
    "ok": pgettext_lazy("audit", "结果一致"),
    "old_prefix": pgettext_lazy("audit", "原令牌前缀"),
    "order": pgettext_lazy("audit", "顺序"),
    "original_name": pgettext_lazy("audit", "原始文件名"),
    "out_dir": pgettext_lazy("audit", "输出目录"),
    "package": pgettext_lazy("audit", "光盘包"),
    "people": pgettext_lazy("audit", "人员"),
    "person": pgettext_lazy("audit", "人员"),
    "person_name": pgettext_lazy("audit", "姓名"),
    "problems": pgettext_lazy("audit", "问题"),
    "quarantine": pgettext_lazy("audit", "待处理文件"),
    "quarantined": pgettext_lazy("audit", "进入待处理区"),
    "reading_problem": pgettext_lazy("audit", "读数问题"),
    "reason_text": pgettext_lazy("audit", "原因说明"),
    "recorder": pgettext_lazy("audit", "记录仪"),
    "recording_created": pgettext_lazy("audit", "新登记声像记录"),
    "renamed": pgettext_lazy("audit", "重新命名"),
    "resolution": pgettext_lazy("audit", "处理方式"),
    "resubmitted": pgettext_lazy("audit", "重新提交"),
    "retention": pgettext_lazy("audit", "保存期限"),
    "retry": pgettext_lazy("audit", "将重试"),
    "retry_at": pgettext_lazy("audit", "重试时间"),
    "return_reason": pgettext_lazy("audit", "退回原因"),
    "rule": pgettext_lazy("audit", "规则"),
    "source": pgettext_lazy("audit", "来源"),
    "standard_name": pgettext_lazy("audit", "标准名称"),
    "start": pgettext_lazy("audit", "开始"),
    "started_at": pgettext_lazy("audit", "开始录制"),
    "station": pgettext_lazy("audit", "采集工作站"),
    "step": pgettext_lazy("audit", "环节"),
    "storage_free_bytes": pgettext_lazy("audit", "剩余存储"),
    "storage_total_bytes": pgettext_lazy("audit", "总存储"),
    "target": pgettext_lazy("audit", "对象"),
    "to": pgettext_lazy("audit", "新值"),
    "token": pgettext_lazy("audit", "令牌编号"),
    "token_prefix": pgettext_lazy("audit", "令牌前缀"),
    "unit": pgettext_lazy("audit", "单位"),
    "units": pgettext_lazy("audit", "单位"),
    "user_no": pgettext_lazy("audit", "警号"),
    "user_no_in_name": pgettext_lazy("audit", "文件名中的警号"),
    "user_no_mismatch": pgettext_lazy("audit", "警号不一致"),
    "vendor": pgettext_lazy("audit", "厂商"),
    "verdict": pgettext_lazy("audit", "结论"),
    "version": pgettext_lazy("audit", "版本"),
    "workstation": pgettext_lazy("audit", "采集工作站"),
    "username": pgettext_lazy("audit", "登录名"),
    "failures": pgettext_lazy("audit", "连续失败次数"),
    "without_review": pgettext_lazy("audit", "未经法制审核"),
    "last_error": pgettext_lazy("audit", "上次错误"),
    "created": pgettext_lazy("audit", "新增"),
    "updated": pgettext_lazy("audit", "更新"),
    "retired": pgettext_lazy("audit", "停用"),
    "gaps": pgettext_lazy("audit", "缺口"),
    "percent": pgettext_lazy("audit", "录制覆盖率（%）"),
    "no": pgettext_lazy("audit", "序号"),
    "code": pgettext_lazy("audit", "编号"),
    "short_name": pgettext_lazy("audit", "简称"),
    "level": pgettext_lazy("audit", "级别"),
    "parent": pgettext_lazy("audit", "上级单位"),
    "independently_housed": pgettext_lazy("audit", "独立办公"),
    "active": pgettext_lazy("audit", "启用"),
    "cert_no": pgettext_lazy("audit", "执法证号"),
    "frontline": pgettext_lazy("audit", "一线执法"),
    "is_active": pgettext_lazy("audit", "账号有效"),
    "roles": pgettext_lazy("audit", "角色"),
    "phone": pgettext_lazy("audit", "电话"),
    "filters": pgettext_lazy("audit", "筛选条件"),
    "rows": pgettext_lazy("audit", "行数"),
    "truncated": pgettext_lazy("audit", "超出上限"),
    "per": pgettext_lazy("audit", "分层期间"),
    "per_stratum": pgettext_lazy("audit", "每层抽取数"),
    "seed": pgettext_lazy("audit", "随机种子"),
    "first_day": pgettext_lazy("audit", "首日"),
    "last_day": pgettext_lazy("audit", "末日"),
    "seconds": pgettext_lazy("audit", "用时（秒）"),
    "population": pgettext_lazy("audit", "总体数量"),
    "sample_sha256": pgettext_lazy("audit", "样本 SHA-256"),
    "redrawn_sha256": pgettext_lazy("audit", "重新抽取的样本 SHA-256"),
    "same": pgettext_lazy("audit", "样本一致"),
    "position": pgettext_lazy("audit", "抽检项序号"),
    "ledger_row": pgettext_lazy("audit", "台账行"),
    "marks": pgettext_lazy("audit", "检查结果"),
    "score": pgettext_lazy("audit", "得分"),
    "passed": pgettext_lazy("audit", "符合项"),
    "failed": pgettext_lazy("audit", "不符合项"),
    "findings": pgettext_lazy("audit", "督察发现"),
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
    if kind == "cli" and rest:
        return pgettext("audit", "服务器命令行（%(user)s）") % {"user": rest}
    if kind == "anonymous":
        return pgettext("audit", "未知账号（%(name)s）") % {"name": rest}
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
