"""Pages for access requests (调用单, C6.3): list, new request, detail with the
actions allowed to the viewer, and the printable form.

Every request is fetched through ``AccessRequest.objects.restrict(user, "view")``;
every change goes through ``jilu.access.actions`` (which re-checks who may act
and writes the audit row). Not being allowed is a 403 with the reason.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from jilu.access import actions, scope
from jilu.access.models import AccessRequest
from jilu.org.roles import LEADERS, Role

PAGE_SIZE = 50
PRINT_LANGUAGE = "zh-hans"  # the printed 调用单 is a Chinese form (C6.3)


def _get(request: HttpRequest, pk: int) -> AccessRequest:
    req = (
        AccessRequest.objects.restrict(request.user, "view")
        .select_related("requester", "unit", "case", "approver", "provided_by")
        .filter(pk=pk)
        .first()
    )
    if req is None:
        raise Http404(_("没有这张调用单，或它不在你的权限范围内"))
    return req


def _reads_all(user: Any) -> bool:
    return user.is_superuser or user.has_role(
        Role.INSPECTOR, Role.ADMIN, Role.SQUAD_LEADER, Role.BRIGADE_LEADER, Role.ARCHIVIST
    )


def _tabs(user: Any) -> list[tuple[str, str]]:
    tabs = [("mine", _("我的申请"))]
    if scope.holds(user, *LEADERS):
        tabs.append(("approve", _("待我审批")))
    if scope.holds(user, Role.ARCHIVIST):
        tabs.append(("provide", _("待提供")))
    if _reads_all(user):
        tabs.append(("all", _("全部")))
    return tabs


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    tabs = _tabs(user)
    tab = request.GET.get("tab", "")
    if tab not in {key for key, _label in tabs}:
        tab = "mine"
    if tab == "approve":
        qs = scope.awaiting_approval(user)
    elif tab == "provide":
        qs = scope.awaiting_copy(user)
    elif tab == "all":
        qs = AccessRequest.objects.restrict(user, "view")
    else:
        qs = AccessRequest.objects.filter(requester_id=user.pk)
    qs = qs.select_related("requester", "unit", "approver").order_by("-created_at", "-pk")
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "access/request_list.html",
        {
            "tabs": tabs,
            "tab": tab,
            "page_obj": page_obj,
            "querystring_without_page": f"tab={tab}&",
            "may_identify": scope.holds(user, Role.INSPECTOR, Role.ADMIN),
        },
    )


def _case_by(user: Any, value: str) -> Any:
    from jilu.casework.models import Case

    value = value.strip()
    if not value:
        return None
    cases = Case.objects.restrict(user, "view")
    found = cases.filter(number=value).first()
    if found is None and value.isdigit():
        found = cases.filter(pk=int(value)).first()
    return found


def _candidates(user: Any, ids: list[int], case: Any) -> list[Any]:
    """The recordings offered on the form: those named, and the case's ones."""
    from jilu.evidence.models import Recording

    qs = Recording.objects.restrict(user, "view").select_related("recorder", "officer")
    found = {r.pk: r for r in qs.filter(pk__in=ids)}
    if case is not None:
        for r in qs.filter(annotation__case=case).order_by("started_at")[: actions.MAX_ITEMS]:
            found.setdefault(r.pk, r)
    return sorted(found.values(), key=lambda r: (r.started_at, r.pk))


def _ids(values: list[str]) -> tuple[list[int], list[str]]:
    good, bad = [], []
    for v in values:
        (good if v.strip().isdigit() else bad).append(v)
    return [int(v) for v in good], bad


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    """Apply for copies of recordings one can see (C6.3): ``?recording=1&recording=2``
    and ``?case=<案件编号>`` preselect them."""
    user = request.user
    errors: list[str] = []
    data = request.POST if request.method == "POST" else request.GET
    ids, bad = _ids(data.getlist("recording"))
    case_text = data.get("case", "")
    case = _case_by(user, case_text)
    purpose = data.get("purpose", "")
    use = data.get("use", AccessRequest.Use.EVIDENCE)
    if bad:
        errors.append(_("声像记录编号无效：%(ids)s") % {"ids": actions.joined(bad)})
    if case_text.strip() and case is None:
        errors.append(
            _("没有案件编号为 %(case)s 的案件，或它不在你的权限范围内。") % {"case": case_text}
        )
    candidates = _candidates(user, ids, case)
    shown = {r.pk for r in candidates}
    missing = [i for i in sorted(set(ids)) if i not in shown]
    if missing:
        errors.append(_("声像记录 %(ids)s 不存在或您无权查看") % {"ids": actions.joined(missing)})
    if request.method == "POST" and not errors:
        try:
            req = actions.create_request(
                actor=user, purpose=purpose, recording_ids=ids, case=case, use=use
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            messages.success(
                request,
                _("已提交调用申请 %(number)s，请等待负责领导审批。") % {"number": req.number},
            )
            return redirect("access:detail", pk=req.pk)
    chosen = set(ids) if request.method == "POST" else {r.pk for r in candidates}
    return render(
        request,
        "access/request_form.html",
        {
            "errors": errors,
            "candidates": candidates,
            "chosen": chosen,
            "purpose": purpose,
            "use": use,
            "uses": AccessRequest.Use.choices,
            "case_text": case.number if case is not None else case_text,
            "valid_days": actions.valid_days(),
        },
        status=400 if errors and request.method == "POST" else 200,
    )


def _items(req: AccessRequest) -> list[dict[str, Any]]:
    copies: dict[int, list[Any]] = {}
    for c in req.copies.select_related("made_by"):
        copies.setdefault(c.recording_id, []).append(c)
    issued: dict[int, list[Any]] = {}
    for c in req.issued.select_related("closed_by").order_by("kind", "pk"):
        issued.setdefault(c.recording_id, []).append(c)
    recs = req.recordings.select_related("recorder", "officer").order_by("started_at", "pk")
    from jilu.casework.models import Annotation

    names = dict(
        Annotation.objects.filter(recording__in=recs).values_list("recording_id", "standard_name")
    )
    return [
        {
            "rec": r,
            "standard_name": names.get(r.pk, ""),
            "copies": copies.get(r.pk, []),
            "issued": issued.get(r.pk, []),
        }
        for r in recs
    ]


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get(request, pk)
    user = request.user
    open_ = req.current_status in (AccessRequest.Status.PENDING, AccessRequest.Status.APPROVED)
    packages = list(req.packages.select_related("created_by"))
    may_fulfil = scope.may_fulfil(user, req)
    return render(
        request,
        "access/request_detail.html",
        {
            "req": req,
            "items": _items(req),
            "may_approve": scope.may_approve(user, req),
            "may_withdraw": scope.may_withdraw(user, req),
            "may_provide": scope.may_provide(user, req),
            "may_manage": may_fulfil,
            "packages": packages,
            "busy": any(not p.finished for p in packages),
            "providers": scope.providers(req) if open_ else None,
            "mediums": AccessRequest.Medium.choices,
        },
    )


def _act(request: HttpRequest, pk: int, done: str, call) -> HttpResponse:
    req = _get(request, pk)
    try:
        call(req)
    except ValidationError as exc:
        messages.error(request, pgettext("message separator", "；").join(exc.messages))
    else:
        messages.success(request, done % {"number": req.number})
    return redirect("access:detail", pk=req.pk)


@require_POST
@login_required
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("已批准调用单 %(number)s，档案管理员可在有效期内提供复制件。"),
        lambda req: actions.approve(
            actor=request.user, request=req, note=request.POST.get("note", "")
        ),
    )


@require_POST
@login_required
def request_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("已拒绝调用单 %(number)s。"),
        lambda req: actions.refuse(
            actor=request.user, request=req, note=request.POST.get("note", "")
        ),
    )


@require_POST
@login_required
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        _("已撤回调用单 %(number)s。"),
        lambda req: actions.withdraw(actor=request.user, request=req),
    )


def _print_context(req: AccessRequest) -> dict[str, Any]:
    return {"req": req, "items": _items(req), "printed_at": timezone.localtime()}


@login_required
@require_GET
def request_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The 调用单 as an A4 page to print and sign: a Chinese legal form, the same
    whatever the language of the pages."""
    req = _get(request, pk)
    with translation.override(PRINT_LANGUAGE):
        return render(request, "access/print.html", {**_print_context(req), "screen": True})


@login_required
@require_GET
def request_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from weasyprint import HTML

    req = _get(request, pk)
    started = time.perf_counter()
    with translation.override(PRINT_LANGUAGE):
        html = render_to_string("access/print.html", {**_print_context(req), "screen": False})
    body = HTML(string=html).write_pdf()
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{req.number}.pdf"'
    response["Server-Timing"] = f"pdf;dur={(time.perf_counter() - started) * 1000:.0f}"
    return response
