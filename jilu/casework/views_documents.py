"""Pages for the case's AV record list (Attachment 2, A2; C5.4, C5.5) and the
opening scripts (Attachment 1, A1; C4.1, C4.2).

Every page narrows its querysets with ``restrict(user, action)``: a case or an
activity outside the user's view scope is a 404; reordering a list the user
may see but not change is a 403. Changes go through
``jilu.casework.recordlist_actions``.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jilu.casework import naming, recordlist, recordlist_actions, scripts
from jilu.casework.models import Activity, Case

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _case(request: HttpRequest, pk: int) -> Case:
    case = (
        Case.objects.restrict(request.user, "view")
        .select_related("unit", "party", "handler", "power")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404(_("没有这个案件，或它不在你的管辖范围内"))
    return case


def _may_reorder(request: HttpRequest, case: Case) -> bool:
    return (
        case.editable and Case.objects.restrict(request.user, "change").filter(pk=case.pk).exists()
    )


def _activity(request: HttpRequest, pk: int) -> Activity:
    activity = (
        Activity.objects.restrict(request.user, "view")
        .select_related("unit", "party", "power", "case")
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise Http404(_("没有这项执法活动，或它不在你的管辖范围内"))
    return activity


def download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(len(body))
    response["Cache-Control"] = "private, no-store"
    return response


def list_file_name(case: Case, ext: str) -> str:
    return f"{recordlist.TITLE}_{naming.clean(case.number)}.{ext}"


# --- the AV record list (A2) ---------------------------------------------------


@login_required
@require_GET
def record_list(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    built = recordlist.build(case)
    order = [r.annotation_id for r in built.rows]
    return render(
        request,
        "casework/recordlist.html",
        {
            "case": case,
            "list": built,
            "columns": recordlist.COLUMNS,
            "title": recordlist.TITLE,
            "may_reorder": _may_reorder(request, case),
            "expected": ",".join(str(i) for i in order),
            "count": len(order),
        },
    )


@login_required
@require_POST
def record_list_move(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if not Case.objects.restrict(request.user, "change").filter(pk=case.pk).exists():
        raise PermissionDenied(_("你可以查看这个案件，但不能调整它的清单顺序"))
    url = reverse("casework_docs:record_list", args=[case.pk])
    try:
        expected = [int(i) for i in request.POST.get("expected", "").split(",") if i.strip()]
        annotation_id = int(request.POST.get("annotation", ""))
        to = int(request.POST.get("to", ""))
    except ValueError:
        messages.error(request, _("新的序号无效：请填写 1 到清单条数之间的整数"))
        return redirect(url)
    try:
        recordlist_actions.move(
            actor=request.user, case=case, annotation_id=annotation_id, to=to, expected=expected
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(url)
    messages.success(request, _("清单顺序已更新，序号与标准文件名已同步"))
    return redirect(f"{url}#row-{annotation_id}")


@login_required
@require_GET
def record_list_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    started = time.perf_counter()
    body = recordlist.render_pdf(recordlist.build(case))
    response = download(body, PDF, list_file_name(case, "pdf"))
    response["Server-Timing"] = f"pdf;dur={(time.perf_counter() - started) * 1000:.0f}"
    return response


@login_required
@require_GET
def record_list_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    body = recordlist.render_xlsx(recordlist.build(case))
    return download(body, XLSX, list_file_name(case, "xlsx"))


# --- opening scripts (A1) ------------------------------------------------------


def _with_script(request: HttpRequest, key: str) -> str:
    """This page's query with another script chosen (the inputs are kept)."""
    query = request.GET.copy()
    query["script"] = key
    return f"?{query.urlencode()}"


def _script_context(request: HttpRequest, activity: Activity) -> dict:
    requested = request.GET.get("script", "")
    script = scripts.for_activity(activity, request.GET, requested)
    facts = scripts.facts_for(activity, request.GET)
    inputs = {k: request.GET.get(k, "") for k in scripts.INPUTS}
    query = request.GET.urlencode()
    return {
        "activity": activity,
        "script": script,
        "facts": facts,
        "officers_text": scripts.officers_text(facts.officers),
        "when": facts.at,
        "inputs": inputs,
        "choices": [(k, scripts.TITLES[k], _with_script(request, k)) for k in scripts.TITLES],
        "present_choices": [
            (scripts.PRESENT_PARTY, _("当事人在现场")),
            (scripts.PRESENT_AGENT, _("受托人在现场")),
            (scripts.PRESENT_REFUSED, _("当事人拒不到场，邀请见证人")),
        ],
        "stage_directions": scripts.STAGE_DIRECTIONS,
        "query": f"?{query}" if query else "",
    }


@login_required
@require_GET
def script_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The phone page an officer reads from on arrival (C4.1, C4.2)."""
    activity = _activity(request, pk)
    return render(request, "casework/script.html", _script_context(request, activity))


@login_required
@require_GET
def script_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable card of the same script (standalone HTML, prints on A5)."""
    activity = _activity(request, pk)
    with translation.override("zh-hans"):  # the printed card (A1) stays Chinese
        return render(request, "casework/script_card.html", _script_context(request, activity))


@login_required
@require_GET
def script_card_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from weasyprint import HTML

    activity = _activity(request, pk)
    with translation.override("zh-hans"):  # the printed card (A1) stays Chinese
        context = _script_context(request, activity)
        html = render_to_string("casework/script_card.html", {**context, "pdf": True}, request)
    body = HTML(string=html).write_pdf()
    return download(body, PDF, f"现场口述_{context['script'].title}_{activity.pk}.pdf")
