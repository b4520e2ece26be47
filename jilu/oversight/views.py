"""Pages for findings (C6.4, C6.5): the list with its filters and counts by
clause, a finding with its facts and the explain / decide forms, the
explanation's attachment, and the rules' settings with their history.

Findings are fetched through ``Finding.objects.restrict(user, …)``: out of
scope is a 404. Every change goes through ``jilu.oversight.actions``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jilu.org.roles import Role
from jilu.oversight import actions, facts, rules, thresholds
from jilu.oversight.finding_models import Finding, RuleSetting
from jilu.oversight.history import audit_history
from jilu.oversight.queries import (
    counts_by_clause,
    filter_findings,
    person_name,
    visible_units,
)
from jilu.oversight.subjects import subject_text

PAGE_SIZE = 50
SETTINGS_READERS = (Role.ADMIN, Role.INSPECTOR)


@login_required
@require_GET
def finding_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    scoped = Finding.objects.restrict(user, "view")
    filtered = filter_findings(scoped, request.GET, user)
    without_clause = filter_findings(
        scoped, {**request.GET.dict(), "clause": "", "rule": ""}, user
    ).findings
    page = Paginator(
        filtered.findings.select_related("unit", "person").order_by("-period_start", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    for f in page:
        info = rules.RULES.get(f.rule)
        f.clauses = info.clauses if info else (f.clause,)
        f.subject_text = subject_text(f)
    query = request.GET.copy()
    query.pop("page", None)
    units = visible_units(user)
    chosen = filtered.chosen
    return render(
        request,
        "oversight/finding_list.html",
        {
            "page_obj": page,
            "chosen": chosen,
            "errors": filtered.errors,
            # A unit not in the list stays in the form as typed, marked as not one of them.
            "unknown_unit": chosen["unit"]
            if chosen["unit"] and not any(str(u.pk) == chosen["unit"] for u in units)
            else "",
            "person_name": person_name(scoped, chosen["person"]),
            "without_person": _query(chosen, person="", page=""),
            "rules": [(r.code, r.clause, r.label) for r in rules.RULES.values()],
            "clauses": rules.CLAUSES,
            "states": Finding.State.choices,
            "units": units,
            "by_clause": [
                {**c, "query": _query(chosen, clause=c["clause"], rule="")}
                for c in counts_by_clause(without_clause)
            ],
            "by_clause_findings": without_clause.count(),
            "querystring_without_page": query.urlencode() + "&" if query else "",
            "may_read_settings": user.is_superuser or user.has_role(*SETTINGS_READERS),
        },
        status=400 if filtered.errors else 200,
    )


def _query(chosen: dict[str, str], **changed: str) -> str:
    """The list's query string with the filters ``chosen``, some of them changed."""
    values = {**chosen, **changed}
    return urlencode({k: v for k, v in values.items() if v})


def _finding(request: HttpRequest, pk: int) -> Finding:
    found = (
        Finding.objects.restrict(request.user, "view")
        .select_related("unit", "person", "explained_by", "decided_by", "attachment")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(_("没有这项发现，或它不在你的权限范围内"))
    return found


def _detail(
    request: HttpRequest,
    finding: Finding,
    *,
    explain: dict | None = None,
    decide: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    """The finding's page; after a refused explanation or decision, with what
    was typed and the errors beside the fields (``explain`` / ``decide``:
    ``{"text": …, "errors": {field: [messages]}}``, "form" for the whole form)."""
    return render(
        request,
        "oversight/finding_detail.html",
        {
            "finding": finding,
            "subject_text": subject_text(finding),
            "rule": rules.RULES.get(finding.rule),
            "facts": facts.described(finding, request.user),
            "may_explain": actions.may_explain(request.user, finding),
            "may_decide": actions.may_decide(request.user, finding),
            "explain": explain or {"text": "", "errors": {}},
            "decide": decide or {"text": "", "errors": {}},
            "max_mb": actions.MAX_ATTACHMENT_BYTES // (1024 * 1024),
            "audit_history": audit_history(request.user, "oversight.finding", finding.pk),
        },
        status=status,
    )


@login_required
@require_GET
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _finding(request, pk))


def _errors(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
        return
    for m in getattr(exc, "messages", None) or [str(exc)]:
        messages.error(request, m)


def _field_errors(
    exc: ValidationError | PermissionDenied, fields: tuple[str, ...]
) -> dict[str, list[str]]:
    """The messages of ``exc`` by form field: those of ``fields`` beside their
    field, any other (the state, the permission) under "form" for the whole form."""
    out: dict[str, list[str]] = {}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, msgs in exc.message_dict.items():
            out.setdefault(name if name in fields else "form", []).extend(msgs)
        return out
    out["form"] = list(getattr(exc, "messages", None) or [str(exc)])
    return out


@login_required
@require_POST
def finding_explain(request: HttpRequest, pk: int) -> HttpResponse:
    """Explain a finding; refused (a bad attachment, an empty text, explained
    meanwhile), the page comes back (400) with the text as typed."""
    finding = _finding(request, pk)
    text = request.POST.get("text", "")
    try:
        upload = request.FILES.get("attachment")
        try:
            attachment = actions.read_attachment(upload) if upload else None
        except ValidationError as exc:
            raise ValidationError({"attachment": exc.messages}) from exc
        actions.explain_finding(finding, actor=request.user, text=text, attachment=attachment)
    except (ValidationError, PermissionDenied) as exc:
        explain = {"text": text, "errors": _field_errors(exc, ("text", "attachment"))}
        return _detail(request, _finding(request, pk), explain=explain, status=400)
    messages.success(request, _("已提交情况说明，等待督察认定。"))
    return redirect("oversight:finding_detail", finding.pk)


@login_required
@require_POST
def finding_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Decide a finding; refused (no reason, decided meanwhile), the page comes
    back (400) with the reason as typed."""
    finding = _finding(request, pk)
    reason = request.POST.get("reason", "")
    try:
        actions.decide_finding(
            finding, actor=request.user, outcome=request.POST.get("outcome", ""), reason=reason
        )
    except (ValidationError, PermissionDenied) as exc:
        decide = {"text": reason, "errors": _field_errors(exc, ("reason",))}
        return _detail(request, _finding(request, pk), decide=decide, status=400)
    messages.success(request, _("已认定。"))
    return redirect("oversight:finding_detail", finding.pk)


@login_required
@require_GET
def finding_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """The explanation's attachment, as a download (never shown inline)."""
    from jilu.evidence.store import get_store

    finding = _finding(request, pk)
    if finding.attachment is None:
        raise Http404(_("这项发现的说明没有附件"))
    obj = finding.attachment
    response = StreamingHttpResponse(
        get_store().open_range(obj.sha256), content_type=finding.attachment_type
    )
    response["Content-Length"] = str(obj.size)
    response["Content-Disposition"] = content_disposition_header(True, finding.attachment_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.has_role(*SETTINGS_READERS)):
        raise PermissionDenied(_("只有系统管理员和督察可以查看督察规则的阈值"))
    may_change = actions.may_change_settings(user)
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(_("只有市局系统管理员可以修改规则阈值"))
        try:
            actions.change_setting(
                actor=user,
                key=request.POST.get("key", ""),
                value=request.POST.get("value", ""),
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            _errors(request, exc)
            status = 400
        else:
            messages.success(request, _("已修改，下次检查起按新值判断。"))
            return redirect("oversight:settings")
    values = thresholds.current()
    rows = [{"t": t, "value": t.text(values[t.key])} for t in thresholds.THRESHOLDS.values()]
    history = RuleSetting.objects.select_related("changed_by")[:200]
    labels = {t.key: t.label for t in thresholds.THRESHOLDS.values()}
    for row in history:
        row.label = labels.get(row.key, row.key)
    return render(
        request,
        "oversight/settings.html",
        {"rows": rows, "history": history, "may_change": may_change},
        status=status,
    )
