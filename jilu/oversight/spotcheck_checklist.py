"""What a spot check (C6.4) looks at: the checklist of a sampled recording,
built from how the notice says to film (C4) and the opening script
(Attachment 1, cited as A1), and the checklist of a sampled ledger row
(C6.1: the recordings ledger against the recordings themselves).

Each item has a code, the clauses it cites (the first is the one a finding is
counted under) and its words: ``label``, what the checklist asks, worded as
the recording or row should be ("口述了开场内容"), ``text``, the requirement at
length, and ``breach``, the same item as a failure ("抽检不符合：未口述开场内容").
A failed item becomes a finding of the rule ``spot_<code>``
(``jilu.oversight.rules``), named by its ``breach``: a finding says what was
wrong, never the checklist's passing words.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PASS, FAIL, NA = "pass", "fail", "na"
OUTCOMES = (PASS, FAIL, NA)
OUTCOME_LABELS = {PASS: _("符合"), FAIL: _("不符合"), NA: _("不适用")}


@dataclass(frozen=True)
class CheckItem:
    code: str
    clauses: tuple[str, ...]
    label: Promise
    text: Promise
    breach: Promise

    @property
    def clause(self) -> str:
        return self.clauses[0]

    @property
    def rule(self) -> str:
        return f"spot_{self.code}"


RECORDING_ITEMS = (
    CheckItem(
        "landmark",
        ("C4.1",),
        _("拍摄了点位的显著标志"),
        _("到达现场首先拍摄具体点位的显著标志（门牌、单位招牌）。"),
        _("抽检不符合：未拍摄点位的显著标志"),
    ),
    CheckItem(
        "opening",
        ("C4.1", "A1"),
        _("口述了开场内容"),
        _("开始拍摄时口述日期和时间、场所及具体地址、工作任务（附件1的口述内容）。"),
        _("抽检不符合：未口述开场内容"),
    ),
    CheckItem(
        "identity",
        ("C4.1", "A1"),
        _("说明了两名执法人员身份和执法证号"),
        _("口述两名执法人员的姓名和执法证号。"),
        _("抽检不符合：未说明两名执法人员身份和执法证号"),
    ),
    CheckItem(
        "certificate",
        ("C4.2", "A1"),
        _("向当事人出示了执法证件"),
        _(
            "调查取证时主动向当事人出示执法证件（“这是我们的执法证件”）；当事人拒不到场的，予以说明并拍摄见证人到场。"
        ),
        _("抽检不符合：未向当事人出示执法证件"),
    ),
    CheckItem(
        "continuous",
        ("C4.3",),
        _("从进入现场至离开持续拍摄"),
        _("从进入现场至执法活动结束后离开现场，记录仪保持持续拍摄，没有中断。"),
        _("抽检不符合：未从进入现场至离开持续拍摄"),
    ),
    CheckItem(
        "angles",
        ("C4.3",),
        _("拍摄角度可用"),
        _("尽可能多地选取拍摄角度（远景、近景、细部及周边），画面能看清现场。"),
        _("抽检不符合：拍摄角度不能看清现场"),
    ),
    CheckItem(
        "sound",
        ("C4.3",),
        _("全程同步录音且清晰"),
        _("全程同步录音，声音能听清。"),
        _("抽检不符合：未全程同步录音或录音不清晰"),
    ),
)

LEDGER_ITEMS = (
    CheckItem(
        "ledger_count",
        ("C6.1",),
        _("台账条数与声像记录一致"),
        _("台账中该队员当天的录像条数与系统中的声像记录一致。"),
        _("抽检不符合：台账条数与声像记录不一致"),
    ),
    CheckItem(
        "ledger_duration",
        ("C6.1",),
        _("台账总时长与声像记录一致"),
        _("台账中该队员当天的录像总时长与声像记录一致。"),
        _("抽检不符合：台账总时长与声像记录不一致"),
    ),
    CheckItem(
        "ledger_collected",
        ("C6.1",),
        _("台账采集时间与声像记录一致"),
        _("台账中的首次、末次采集时间和超24小时采集条数与声像记录一致。"),
        _("抽检不符合：台账采集时间与声像记录不一致"),
    ),
    CheckItem(
        "ledger_annotated",
        ("C6.1",),
        _("台账标注情况与声像记录一致"),
        _("台账中的48小时内标注、逾期标注、未标注条数与声像记录一致。"),
        _("抽检不符合：台账标注情况与声像记录不一致"),
    ),
)

# Which ledger row fields each ledger item compares.
LEDGER_FIELDS = {
    "ledger_count": ("count",),
    "ledger_duration": ("seconds",),
    "ledger_collected": ("first_docked", "last_docked", "late_collected"),
    "ledger_annotated": ("annotated_in_time", "annotated_late", "unannotated"),
}

ITEMS: dict[str, CheckItem] = {i.code: i for i in (*RECORDING_ITEMS, *LEDGER_ITEMS)}


def items_for(kind: str) -> tuple[CheckItem, ...]:
    """The checklist of a spot check of ``kind`` ("recordings" or "ledgers")."""
    return LEDGER_ITEMS if kind == "ledgers" else RECORDING_ITEMS


def score(marks: dict[str, str]) -> float | None:
    """Percent of the applicable items that passed; None when none applied."""
    passed = sum(1 for v in marks.values() if v == PASS)
    failed = sum(1 for v in marks.values() if v == FAIL)
    if passed + failed == 0:
        return None
    return round(100 * passed / (passed + failed), 1)
