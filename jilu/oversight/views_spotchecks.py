"""Pages for spot checks (抽检, C6.4): the list, the form that draws a sample,
and a spot check with its sample, the checklist of each item, "redraw and
compare" and completing it.

Inspectors draw and review; squad and brigade leaders read the spot checks
covering their unit subtree (only their subtree's items), read-only. Anyone
else is refused (403); a spot check out of scope is a 404. Every change goes
through ``jilu.oversight.spotcheck_actions``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jilu.org.models import Unit
from jilu.org.roles import LEADERS
from jilu.oversight import spotcheck_actions as actions
from jilu.oversight import spotcheck_pages as pages
from jilu.oversight import spotcheck_sample as sampling
from jilu.oversight.history import audit_history
from jilu.oversight.spotcheck_checklist import OUTCOME_LABELS, OUTCOMES, items_for
from jilu.oversight.spotcheck_models import SpotCheck, SpotCheckItem
from jilu.oversight.views import _errors

PAGE_SIZE = 50


def _may_read(user: Any) -> bool:
    return actions.may_draw(user) or user.has_role(*LEADERS)


def _require_reader(request: HttpRequest) -> None:
    if not _may_read(request.user):
        raise PermissionDenied(_("督察、中队长和大队长可以查看抽检"))


def _spot(request: HttpRequest, pk: int) -> SpotCheck:
    _require_reader(request)
    found = (
        SpotCheck.objects.restrict(request.user, "view")
        .select_related("created_by", "completed_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(_("没有这次抽检，或它不在你的权限范围内"))
    return found


@login_required
@require_GET
def spotcheck_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    qs = SpotCheck.objects.restrict(request.user, "view").select_related("created_by")
    page = Paginator(qs.prefetch_related("units"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "oversight/spotcheck_list.html",
        {
            "page_obj": page,
            "may_draw": actions.may_draw(request.user),
            "querystring_without_page": "",
        },
    )


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@login_required
def spotcheck_new(request: HttpRequest) -> HttpResponse:
    if not actions.may_draw(request.user):
        raise PermissionDenied(_("只有督察可以抽检"))
    chosen = {
        "kind": "recordings",
        "per": "week",
        "per_stratum": "3",
        "first_day": "",
        "last_day": "",
        "units": [],
        "seed": "",
    }
    status = 200
    if request.method == "POST":
        post = request.POST
        chosen = {
            "kind": post.get("kind", ""),
            "per": post.get("per", ""),
            "per_stratum": post.get("per_stratum", ""),
            "first_day": post.get("first_day", ""),
            "last_day": post.get("last_day", ""),
            "units": post.getlist("units"),
            "seed": post.get("seed", ""),
        }
        try:
            spot = actions.draw_spot_check(
                actor=request.user,
                kind=chosen["kind"],
                first_day=_day(chosen["first_day"]),
                last_day=_day(chosen["last_day"]),
                per=chosen["per"],
                per_stratum=chosen["per_stratum"],
                unit_ids=chosen["units"],
                seed=chosen["seed"],
            )
        except ValidationError as exc:
            _errors(request, exc)
            status = 400
        else:
            messages.success(
                request, _("已抽取 %(n)s 个，随机种子已保存。") % {"n": spot.items.count()}
            )
            return redirect("oversight:spotcheck_detail", spot.pk)
    return render(
        request,
        "oversight/spotcheck_new.html",
        {
            "chosen": chosen,
            "units": Unit.objects.order_by("path"),
            "kinds": SpotCheck.Kind.choices,
            "pers": SpotCheck.Per.choices,
            "max_per_stratum": sampling.MAX_PER_STRATUM,
            "max_sample": sampling.MAX_SAMPLE,
        },
        status=status,
    )


def _detail(request: HttpRequest, spot: SpotCheck, comparison: Any = None) -> HttpResponse:
    rows = pages.rows(spot, request.user)
    return render(
        request,
        "oversight/spotcheck_detail.html",
        {
            "spot": spot,
            "rows": rows,
            "rule_sentences": sampling.rule_sentences(spot.query),
            "query_json": json.dumps(spot.query, ensure_ascii=False, indent=2),
            "checklist": items_for(spot.kind),
            "outcomes": [(o, OUTCOME_LABELS[o]) for o in OUTCOMES],
            "may_review": pages.may_review(request.user, spot),
            "reviewed": sum(1 for r in rows if r.item.reviewed_at),
            "comparison": comparison,
            "is_inspector": actions.may_draw(request.user),
            "audit_history": audit_history(request.user, "oversight.spotcheck", spot.pk),
        },
    )


@login_required
@require_GET
def spotcheck_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _spot(request, pk))


@login_required
@require_POST
def spotcheck_verify(request: HttpRequest, pk: int) -> HttpResponse:
    spot = _spot(request, pk)
    return _detail(request, spot, actions.verify_spot_check(spot, actor=request.user))


@login_required
@require_POST
def spotcheck_review(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    spot = _spot(request, pk)
    item = SpotCheckItem.objects.filter(spot_check=spot, position=position).first()
    if item is None:
        raise Http404(_("这次抽检没有这一项"))
    marks = {
        c.code: request.POST[f"mark-{c.code}"]
        for c in items_for(spot.kind)
        if request.POST.get(f"mark-{c.code}")
    }
    try:
        actions.review_item(
            item, actor=request.user, marks=marks, note=request.POST.get("note", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("第 %(n)s 项的检查结果已保存。") % {"n": position})
    return redirect(reverse("oversight:spotcheck_detail", args=[spot.pk]) + f"#item-{position}")


@login_required
@require_POST
def spotcheck_complete(request: HttpRequest, pk: int) -> HttpResponse:
    spot = _spot(request, pk)
    try:
        actions.complete_spot_check(spot, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("抽检已完成，不符合的检查项已生成督察发现。"))
    return redirect("oversight:spotcheck_detail", spot.pk)
