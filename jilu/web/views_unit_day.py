"""The unit day view: every officer of a unit on one time axis (C2.1, C4.3, C6.2, C6.4)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.casework.views_annotation import SQUAD_QUEUE_READERS
from jilu.evidence.scope import recordings_of_unit
from jilu.evidence.timeline import FIRST_DAY, LAST_DAY
from jilu.web.home import scope_units
from jilu.web.unit_day import build_unit_day


def _today() -> date:
    return timezone.localtime(timezone.now()).date()


def _last_day_with_footage(unit) -> date:
    """The unit's last day with recordings up to today: the day a leader opening
    the page wants (yesterday's footage is docked this morning); today when the
    unit has none yet."""
    latest = (
        recordings_of_unit(unit)
        .filter(started_at__lte=timezone.now())
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return timezone.localtime(latest).date() if latest else _today()


def _day(value: str | None, errors: list[str]) -> date:
    if not value:
        return _today()
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        errors.append(_("日期格式应为 YYYY-MM-DD，已显示今天"))
        return _today()
    if not FIRST_DAY <= day <= LAST_DAY:
        errors.append(_("日期超出范围（2000-01-01 至 2099-12-31），已显示今天"))
        return _today()
    return day


@login_required
def unit_day(request: HttpRequest) -> HttpResponse:
    """One lane per officer of the chosen unit and day: activities, recordings,
    unrecorded parts of activities with their duty-log state, dockings."""
    user = request.user
    if not (user.is_superuser or user.has_role(*SQUAD_QUEUE_READERS)):
        raise PermissionDenied(_("中队长、大队长、督察和系统管理员可以查看单位执勤时间轴"))
    units = list(scope_units(user).order_by("path"))
    if not units:
        raise PermissionDenied(_("你没有所属单位，无法查看单位执勤时间轴"))
    errors: list[str] = []
    by_pk = {str(u.pk): u for u in units}
    unit = by_pk.get(str(user.unit_id)) or units[0]
    asked = request.GET.get("unit")
    if asked:
        if asked in by_pk:
            unit = by_pk[asked]
        else:
            errors.append(_("所选单位不存在或不在你的管辖范围内，已显示本单位"))
    asked_day = request.GET.get("day")
    day = _day(asked_day, errors) if asked_day else _last_day_with_footage(unit)
    data = build_unit_day(user, unit, day)

    def link(d: date) -> str:
        return reverse("web:unit_day") + "?" + urlencode({"unit": unit.pk, "day": d})

    return render(
        request,
        "casework/unit_day.html",
        {
            "data": data,
            "units": units,
            "unit": unit,
            "day": day,
            "errors": errors,
            "prev_url": link(day - timedelta(days=1)) if day > FIRST_DAY else "",
            "next_url": link(day + timedelta(days=1)) if day < LAST_DAY else "",
            "today_url": link(_today()),
        },
    )
