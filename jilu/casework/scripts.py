"""Opening scripts: what officers say aloud when filming starts (Attachment 1, A1).

C4.1: on arrival the officers film a landmark, then state the two officers'
names and certificate numbers, the place and exact address, and the task.
C4.2: they show their certificates; when the party refuses to come they say so
and film the witnesses arriving. Attachment 1 gives the words for four steps:

一、现场勘察环节  (site survey; activities of kind S1)
二、制作询问笔录环节 (inquiry transcript; S3: "可参照询问笔录的格式进行口述")
三、送达环节      (service of documents; S4)
四、强制拆除（查封扣押）环节 (forced demolition S6 / sealing-seizure S5)

Each script here is the attachment's wording, word for word, with its blanks
(×××, ××点, ××年××月××日 …) filled from the activity. Fixed wording and
fills are kept apart (``Part.fill``) so pages can mark what was filled in and
what is still blank. A blank with nothing to fill it keeps the attachment's
own placeholder and is listed in ``Script.missing``.

Additions to the attachment's wording, all required by C4.1 and marked here:
officers' names are followed by their certificate numbers (执法证号); the
demolition/seizure script, which names no officers, states them after
"这是我们的执法证件". The attachment writes its punctuation half-width in the
published text; the cards use the full-width punctuation of Chinese prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone, translation

from jilu.casework.models import Activity, ActivityKind

SURVEY = "survey"
INQUIRY = "inquiry"
SERVICE = "service"
DEMOLITION = "demolition"
SEIZURE = "seizure"
GENERAL = "general"

TITLES = {
    SURVEY: "现场勘察环节",
    INQUIRY: "制作询问笔录环节",
    SERVICE: "送达环节",
    DEMOLITION: "强制拆除环节",
    SEIZURE: "查封扣押环节",
    GENERAL: "现场执法（通用）",
}

# Where each script's wording comes from (shown on the card).
SOURCES = {
    SURVEY: "附件1 一、现场勘察环节",
    INQUIRY: "附件1 二、制作询问笔录环节（可参照询问笔录的格式进行口述。）",
    SERVICE: "附件1 三、送达环节",
    DEMOLITION: "附件1 四、强制拆除（查封扣押）环节",
    SEIZURE: "附件1 四、强制拆除（查封扣押）环节",
    GENERAL: "附件1未列此环节，按通知第四条第（一）项（C4.1）口述",
}

SCRIPT_FOR_KIND = {
    ActivityKind.S1: SURVEY,
    ActivityKind.S2: GENERAL,
    ActivityKind.S3: INQUIRY,
    ActivityKind.S4: SERVICE,
    ActivityKind.S5: SEIZURE,
    ActivityKind.S6: DEMOLITION,
    ActivityKind.S7: GENERAL,
    ActivityKind.S8: GENERAL,
}

# Who is present for the party: the party itself or its agent (受托人), or
# nobody after notification (refused, witnesses called, C4.2).
PRESENT_PARTY = "party"
PRESENT_AGENT = "agent"
PRESENT_REFUSED = "refused"

# The attachment's own placeholders, kept when a blank has no value.
X = "×××"
X_DATE = "××年××月××日"
X_HOUR = "上（下）午××点"
X_DECISION = "××××××××××××"
X_ITEMS = "1...2...3..."

# The steps every card reminds of before the script is read (C4.1, C4.2, C4.3).
STAGE_DIRECTIONS = (
    "先拍摄具体点位的显著标志（如门牌、单位招牌）。",
    "向当事人主动出示执法证件，必要时告知执法记录仪正在工作。",
    "当事人拒不到场的，予以说明，并拍摄见证人到场情况。",
    "从进入现场至离开现场持续拍摄，多角度（远景、近景、细部及周边），全程同步录音。",
)


@dataclass(frozen=True)
class Part:
    text: str
    fill: bool = False
    missing: bool = False


@dataclass
class Officer:
    name: str
    cert_no: str


@dataclass
class ScriptFacts:
    """Everything a script's blanks take, from the activity and the page's inputs."""

    at: datetime | None
    officers: list[Officer]
    unit: str
    place: str = ""
    address: str = ""
    present: str = ""  # PRESENT_PARTY / PRESENT_AGENT / PRESENT_REFUSED / ""
    present_name: str = ""
    notified_on: date | None = None
    witnesses: list[tuple[str, str]] = field(default_factory=list)  # (name, unit)
    decision_no: str = ""
    document: str = ""
    items: list[str] = field(default_factory=list)
    matter: str = ""
    task: str = ""


@dataclass
class Script:
    key: str
    title: str
    source: str
    paragraphs: list[list[Part]]
    missing: list[str]

    @property
    def text(self) -> str:
        return "\n".join("".join(p.text for p in para) for para in self.paragraphs)


class _Builder:
    def __init__(self) -> None:
        self.paragraphs: list[list[Part]] = [[]]
        self.missing: list[str] = []

    def say(self, text: str) -> None:
        self.paragraphs[-1].append(Part(text))

    def fill(self, value: str, placeholder: str, label: str) -> None:
        value = (value or "").strip()
        if value:
            self.paragraphs[-1].append(Part(value, fill=True))
        else:
            self.paragraphs[-1].append(Part(placeholder, fill=True, missing=True))
            if label not in self.missing:
                self.missing.append(label)

    def new_paragraph(self) -> None:
        self.paragraphs.append([])


def chinese_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def half_day_hour(at: datetime | None) -> str:
    """ "上(下)午××点": 09:00 → 上午9点, 15:30 → 下午3点30分, 12:10 → 下午12点10分."""
    if at is None:
        return ""
    half = "上午" if at.hour < 12 else "下午"
    hour = at.hour if at.hour <= 12 else at.hour - 12
    minutes = f"{at.minute}分" if at.minute else ""
    return f"{half}{hour}点{minutes}"


def officers_text(officers: list[Officer]) -> str:
    """Names with their certificate numbers (C4.1), joined with 、."""
    return "、".join(
        f"{o.name}（执法证号{o.cert_no}）" if o.cert_no else o.name for o in officers if o.name
    )


def _local(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return timezone.localtime(at) if timezone.is_aware(at) else at


def _date_and_time(b: _Builder, facts: ScriptFacts, *, with_hour: bool) -> None:
    at = _local(facts.at)
    b.say("今天是")
    b.fill(chinese_date(at.date() if at else None), "×年×月×日", "日期")
    if with_hour:
        b.fill(half_day_hour(at), X_HOUR, "时间")


def _officers(b: _Builder, facts: ScriptFacts) -> None:
    b.fill(officers_text(facts.officers), f"{X}、{X}", "执法人员及执法证号")
    named = [o for o in facts.officers if o.name]
    if len(named) < 2 and "执法人员（至少两名，C4.1）" not in b.missing:
        b.missing.append("执法人员（至少两名，C4.1）")
    if any(not o.cert_no for o in named) and "执法证号" not in b.missing:
        b.missing.append("执法证号")


def _presence(b: _Builder, facts: ScriptFacts) -> None:
    """当事人(或受托人)×××在现场(或者我们已于…通知当事人到场，但当事人拒不到现场，
    我们邀请×××单位的两名见证人×××、×××到场见证) — one branch, as it happened (C4.2)."""
    if facts.present in (PRESENT_PARTY, PRESENT_AGENT):
        b.say("当事人" if facts.present == PRESENT_PARTY else "受托人")
        b.fill(facts.present_name, X, "在场当事人或受托人")
        b.say("在现场")
        return
    if facts.present == PRESENT_REFUSED:
        b.say("我们已于")
        b.fill(chinese_date(facts.notified_on), X_DATE, "通知当事人日期")
        b.say("通知当事人到场，但当事人拒不到现场，我们邀请")
        units = [u for _, u in facts.witnesses if u]
        distinct = list(dict.fromkeys(units))
        b.fill("、".join(distinct), f"{X}单位", "见证人单位")
        b.say("的两名见证人")
        names = [n for n, _ in facts.witnesses if n]
        b.fill(names[0] if names else "", X, "见证人（两名）")
        b.say("、")
        b.fill(names[1] if len(names) > 1 else "", X, "见证人（两名）")
        b.say("到场见证")
        return
    # Not yet known: the attachment's own alternatives, to be chosen on site.
    b.say("当事人（或受托人）")
    b.fill(facts.present_name, X, "在场当事人或受托人")
    b.say("在现场（或者我们已于")
    b.fill(chinese_date(facts.notified_on), X_DATE, "通知当事人日期")
    b.say(f"通知当事人到场，但当事人拒不到现场，我们邀请{X}单位的两名见证人{X}、{X}到场见证）")


def _items(facts: ScriptFacts) -> str:
    items = [i.strip() for i in facts.items if i.strip()]
    return "；".join(f"{n}.{item}" for n, item in enumerate(items, 1))


def _decision(value: str) -> str:
    """ "依据…决定书": a number given with its trailing 决定书 doesn't say it twice."""
    value = value.strip()
    return value.removesuffix("决定书") if len(value) > len("决定书") else value


@translation.override("zh-hans")  # printed documents stay Chinese (A1, A2, C5.3, C5.5)
def build(key: str, facts: ScriptFacts) -> Script:
    b = _Builder()
    if key == SURVEY:
        # 一、现场勘察环节
        b.say("“")
        _date_and_time(b, facts, with_hour=True)
        b.say("，执法人员")
        _officers(b, facts)
        b.say("到")
        b.fill(facts.place, f"{X}单位", "被检查单位或地点名称")
        b.say("进行现场勘察，")
        _presence(b, facts)
        b.say("，具体地点是")
        b.fill(facts.address, X, "具体地址")
        b.say(
            "。这是我们的执法证件。为了保护当事人的合法权益，我们将按规定对此次执法过程"
            "进行全程录音、录像，请您配合我们的调查。拟定检查的内容有"
        )
        b.fill(_items(facts), X_ITEMS, "拟定检查的内容")
        b.say("”。")
    elif key == INQUIRY:
        # 二、制作询问笔录环节: "(可参照询问笔录的格式进行口述。)" — the opening
        # of the inquiry-transcript form: time, place, inquirers with their
        # certificates, the person asked, the matter, rights (C4.4).
        b.say("“")
        _date_and_time(b, facts, with_hour=True)
        b.say("，我们是")
        b.fill(facts.unit, f"{X}执法部门", "执法部门")
        b.say("的执法人员")
        _officers(b, facts)
        b.say("，这是我们的执法证件。现在在")
        b.fill(facts.address, X, "询问地点")
        b.say("依法就")
        b.fill(facts.matter, X, "询问事项")
        b.say("一事向")
        b.fill(facts.present_name, X, "被询问人")
        b.say(
            "进行询问，请如实回答。我们将按规定对询问过程进行全程录音、录像。"
            "你有陈述、申辩的权利；如认为执法人员与本案有直接利害关系，可以申请回避。"
            "你是否申请回避？”"
        )
    elif key == SERVICE:
        # 三、送达环节 (the attachment's wording has the date only).
        b.say("“")
        _date_and_time(b, facts, with_hour=False)
        b.say("，我们是")
        b.fill(facts.unit, f"{X}执法部门", "执法部门")
        b.say("，执法人员")
        _officers(b, facts)
        b.say("，这是我们的执法证件。现依法向你送达")
        b.fill(facts.document, f"{X}文书", "送达文书名称")
        b.say("。请您签收。”")
    elif key in (DEMOLITION, SEIZURE):
        # 四、强制拆除（查封扣押）环节
        action = "强制拆除" if key == DEMOLITION else "查封扣押"
        b.say("“")
        _date_and_time(b, facts, with_hour=True)
        b.say("，")
        b.fill(facts.unit, f"{X}执法部门", "执法部门")
        b.say("依据")
        b.fill(_decision(facts.decision_no), X_DECISION, "决定书文号")
        b.say(f"决定书实施{action}，")
        _presence(b, facts)
        b.say("，具体地点是")
        b.fill(facts.address, X, "具体地址")
        # C4.1: the officers state names and certificate numbers; the
        # attachment's step four names none, so they follow the certificates.
        b.say("。这是我们的执法证件，执法人员")
        _officers(b, facts)
        b.say(
            "。为了保护当事人的合法权益，我们将按规定对此次执法过程进行全程录音、录像，"
            "请您配合我们的工作。”"
        )
    elif key == GENERAL:
        # C4.1 for activities Attachment 1 has no step for (S2, S7, S8).
        b.say("“")
        _date_and_time(b, facts, with_hour=True)
        b.say("，我们是")
        b.fill(facts.unit, f"{X}执法部门", "执法部门")
        b.say("的执法人员")
        _officers(b, facts)
        b.say("，这是我们的执法证件。现在在")
        b.fill(facts.place, X, "所在场所")
        b.say("，具体地址是")
        b.fill(facts.address, X, "具体地址")
        b.say("，执行")
        b.fill(facts.task, X, "工作任务")
        b.say("任务。我们将按规定对此次执法过程进行全程录音、录像，请您配合我们的工作。”")
    else:
        raise ValueError(f"unknown script {key!r}")
    return Script(
        key=key, title=TITLES[key], source=SOURCES[key], paragraphs=b.paragraphs, missing=b.missing
    )


def script_key(activity: Activity, requested: str = "") -> str:
    """The script for the activity's kind, or the one asked for (any of them)."""
    if requested in TITLES:
        return requested
    return SCRIPT_FOR_KIND.get(activity.kind, GENERAL)


def _split_items(text: str) -> list[str]:
    lines = [line.strip() for line in (text or "").replace("；", "\n").splitlines()]
    return [line for line in lines if line]


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


def _parse_datetime(value: str) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


# The page's inputs for what the activity does not hold (or to override it on
# site): name → label. ``present`` chooses party / agent / refused.
INPUTS = {
    "at": "开始时间",
    "present": "在场情况",
    "present_name": "在场当事人或受托人",
    "notified_on": "通知当事人日期",
    "witness1": "见证人一",
    "witness2": "见证人二",
    "witness_unit": "见证人单位",
    "document": "送达文书名称",
    "decision_no": "决定书文号",
    "items": "拟定检查的内容",
}


@translation.override("zh-hans")  # printed documents stay Chinese (A1, A2, C5.3, C5.5)
def facts_for(activity: Activity, params: Any = None) -> ScriptFacts:
    """The facts from the activity, with the page's inputs (``params``,
    a QueryDict or dict) taking precedence over what the activity holds."""
    p = {k: (params.get(k) or "").strip() for k in INPUTS} if params else dict.fromkeys(INPUTS, "")
    officers = [
        Officer(name=o.name, cert_no=o.cert_no or "")
        for o in activity.officers.all().order_by("pk")
    ]
    at = _parse_datetime(p["at"]) or activity.actual_start or activity.planned_start
    party = activity.party
    present = p["present"]
    if present not in (PRESENT_PARTY, PRESENT_AGENT, PRESENT_REFUSED):
        present = ""
    if not present:
        if activity.party_refused:
            present = PRESENT_REFUSED
        elif activity.present_person:
            present = PRESENT_PARTY
    present_name = p["present_name"] or activity.present_person
    if not present_name and present == PRESENT_PARTY and party is not None:
        present_name = party.representative or party.name
    witnesses = [
        (p["witness1"] or activity.witness1_name, p["witness_unit"] or activity.witness1_unit),
        (p["witness2"] or activity.witness2_name, p["witness_unit"] or activity.witness2_unit),
    ]
    items = _split_items(p["items"]) or _split_items(activity.inspection_items)
    if activity.place_name:
        place = activity.place_name
    elif party is not None and party.kind == party.Kind.ORGANISATION:
        place = party.name
    else:
        place = ""
    return ScriptFacts(
        at=at,
        officers=officers,
        unit=activity.unit.name,
        place=place,
        address=activity.address,
        present=present,
        present_name=present_name,
        notified_on=_parse_date(p["notified_on"]) or activity.party_notified_on,
        witnesses=witnesses,
        decision_no=p["decision_no"] or activity.decision_no,
        document=p["document"],
        items=items,
        matter=activity.matter,
        task=activity.get_kind_display(),
    )


def for_activity(activity: Activity, params: Any = None, requested: str = "") -> Script:
    return build(script_key(activity, requested), facts_for(activity, params))
