"""Pages for units, people and the roster (XLSX import and export).

Every page narrows its queryset with ``restrict(user, action)``: an object
outside the person's scope answers 404, a page their role cannot use 403.
Changes go through ``jilu.org.actions`` (atomic, audited).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jilu.audit.labels import action_label, actor_text
from jilu.org import actions, queries, roster, views_uploads
from jilu.org.audit_scope import visible_entries
from jilu.org.forms import (
    PasswordResetForm,
    PersonForm,
    RosterUploadForm,
    UnitForm,
    apply_errors,
)
from jilu.org.models import Person, Unit
from jilu.org.roles import Role
from jilu.workbooks import WorkbookRefused, inspect

READERS = queries.PEOPLE_READERS
# Who may create and change units and people, and import rosters.
MANAGERS = (Role.ADMIN,)
PAGE_SIZE = 50
ROSTER_SESSION_KEY = "org.roster_upload"


PERSON_FIELD_LABELS = {
    "username": gettext_lazy("登录名"),
    "name": gettext_lazy("姓名"),
    "cert_no": gettext_lazy("执法证号"),
    "user_no": gettext_lazy("警号"),
    "unit": gettext_lazy("单位"),
    "frontline": gettext_lazy("一线"),
    "is_active": gettext_lazy("在岗"),
    "roles": gettext_lazy("角色"),
}


def _indented(units) -> list[tuple[int, str]]:
    units = list(units)
    top = min((u.depth for u in units), default=0)
    return [(u.pk, "　" * (u.depth - top) + u.name) for u in units]


def _bound(request: HttpRequest, *, files: bool = False) -> tuple:
    """Form arguments: the submitted data on POST (even if empty), unbound otherwise."""
    if request.method != "POST":
        return ()
    return (request.POST, request.FILES) if files else (request.POST,)


def _require(request: HttpRequest, *roles: str) -> None:
    if not request.user.has_role(*roles):
        raise PermissionDenied(_("你的角色不能打开此页面"))


def _querystring_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode() + "&" if query else ""


# --- units -----------------------------------------------------------------------


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    """The unit tree, indented, with people counts (C1.1) and workstation needs (C1.2)."""
    _require(request, *READERS)
    user = request.user
    everywhere = queries.reads_everywhere(user)
    show_all = everywhere or request.GET.get("scope") == "all"
    home = queries.home_units(user)
    units = Unit.objects.restrict(user, "view") if show_all else home
    units = list(units.select_related("parent").order_by("path"))
    home_ids = set(home.values_list("pk", flat=True))
    changeable = set(Unit.objects.restrict(user, "change").values_list("pk", flat=True))
    counts = queries.people_counts(user, units)
    top = min((u.depth for u in units), default=0)
    rows = [
        {
            "unit": u,
            "indent": u.depth - top,
            "counts": counts[u.pk] if u.pk in home_ids else None,
            "can_change": u.pk in changeable,
            "can_add_below": u.pk in changeable and u.level != Unit.Level.SQUAD and u.active,
        }
        for u in units
    ]
    return render(
        request,
        "org/unit_list.html",
        {
            "rows": rows,
            "show_all": show_all,
            "can_toggle": not everywhere,
            "can_manage": user.has_role(*MANAGERS),
        },
    )


@login_required
def unit_create(request: HttpRequest) -> HttpResponse:
    _require(request, *MANAGERS)
    initial = {}
    parent_id = request.GET.get("parent", "")
    if parent_id.isdigit():
        parent = Unit.objects.restrict(request.user, "add").filter(pk=parent_id).first()
        if parent is not None:
            below = Unit.LEVEL_ORDER.index(parent.level) + 1
            initial = {"parent": parent.pk, "level": Unit.LEVEL_ORDER[min(below, 3)]}
    form = UnitForm(*_bound(request), user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit = actions.create_unit(
                actor=request.user,
                parent=data["parent"],
                code=data["code"],
                name=data["name"],
                short_name=data["short_name"],
                level=data["level"],
                independently_housed=data["independently_housed"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已新建单位：%(name)s") % {"name": unit.name})
            return redirect("org:unit_list")
    return render(request, "org/unit_form.html", {"form": form, "unit": None})


@login_required
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, *MANAGERS)
    unit = get_object_or_404(Unit.objects.restrict(request.user, "change"), pk=pk)
    form = UnitForm(*_bound(request), user=request.user, unit=unit)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parent = data.get("parent")
        moved = parent is not None and parent.pk != unit.parent_id
        try:
            unit = actions.update_unit(
                actor=request.user,
                unit=unit,
                parent=parent if moved else None,
                code=data["code"],
                name=data["name"],
                short_name=data["short_name"],
                level=data["level"],
                independently_housed=data["independently_housed"],
                active=data["active"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存单位：%(name)s") % {"name": unit.name})
            return redirect("org:unit_list")
    return render(request, "org/unit_form.html", {"form": form, "unit": unit})


# --- people ----------------------------------------------------------------------


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    _require(request, *READERS)
    user = request.user
    people = (
        Person.objects.restrict(user, "view")
        .select_related("unit")
        .prefetch_related("role_grants")
        .order_by("unit__path", "name", "username")
    )
    f = {
        key: request.GET.get(key, "").strip()
        for key in ("unit", "role", "frontline", "active", "q")
    }
    unit = None
    if f["unit"].isdigit():
        unit = Unit.objects.restrict(user, "view").filter(pk=f["unit"]).first()
        if unit is not None:
            people = people.filter(unit__path__startswith=unit.path)
    if f["role"] in Role.values:
        people = people.filter(role_grants__role=f["role"])
    if f["frontline"] in ("1", "0"):
        people = people.filter(frontline=f["frontline"] == "1")
    if f["active"] in ("1", "0"):
        people = people.filter(is_active=f["active"] == "1")
    if f["q"]:
        q = f["q"]
        people = people.filter(
            Q(name__icontains=q)
            | Q(username__icontains=q)
            | Q(user_no__icontains=q)
            | Q(cert_no__icontains=q)
        )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "org/person_list.html",
        {
            "page_obj": page,
            "filters": f,
            "unit": unit,
            "units": _indented(queries.unit_choices(user)),
            "roles": Role.choices,
            "querystring_without_page": _querystring_without_page(request),
            "can_manage": user.has_role(*MANAGERS),
        },
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, *READERS)
    user = request.user
    person = get_object_or_404(
        Person.objects.restrict(user, "view").select_related("unit", "unit__parent"), pk=pk
    )
    can_change = (
        user.has_role(*MANAGERS)
        and Person.objects.restrict(user, "change").filter(pk=person.pk).exists()
    )
    entries = (
        visible_entries(user)
        .filter(object_type="org.person", object_id=str(person.pk))
        .order_by("-seq")[:10]
    )
    history = [
        {
            "at": e.at,
            "actor": actor_text(e.actor_label),
            "label": action_label(e.action),
            "fields": [
                str(PERSON_FIELD_LABELS.get(k, k)) for k in (e.details or {}).get("changed", {})
            ],
        }
        for e in entries
    ]
    return render(
        request,
        "org/person_detail.html",
        {
            "person": person,
            "chain": person.unit.ancestors() + [person.unit] if person.unit_id else [],
            "can_change": can_change,
            "is_self": person.pk == user.pk,
            "locked": actions.is_locked(person),
            "history": history,
            "can_see_log": user.has_role(Role.ADMIN, Role.INSPECTOR),
        },
    )


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    _require(request, *MANAGERS)
    initial = {}
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        initial["unit"] = int(unit_id)
    form = PersonForm(*_bound(request), user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.create_person(
                actor=request.user,
                roles=form.cleaned_data["roles"],
                password=form.cleaned_data["password1"],
                **form.person_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已新建人员：%(name)s") % {"name": person.name})
            return redirect("org:person_detail", pk=person.pk)
    return render(request, "org/person_form.html", {"form": form, "person": None})


@login_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, *MANAGERS)
    person = get_object_or_404(Person.objects.restrict(request.user, "change"), pk=pk)
    form = PersonForm(*_bound(request), user=request.user, person=person)
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.update_person(
                actor=request.user,
                person=person,
                roles=form.cleaned_data["roles"],
                **form.person_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存人员信息：%(name)s") % {"name": person.name})
            return redirect("org:person_detail", pk=person.pk)
    return render(request, "org/person_form.html", {"form": form, "person": person})


@login_required
@require_POST
def person_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (离岗、调离) or reactivate an account; people are never deleted."""
    _require(request, *MANAGERS)
    person = get_object_or_404(Person.objects.restrict(request.user, "change"), pk=pk)
    active = request.POST.get("active") == "1"
    try:
        actions.update_person(actor=request.user, person=person, is_active=active)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if active:
            messages.success(request, _("已启用账号：%(name)s") % {"name": person.name})
        else:
            messages.success(
                request, _("已停用账号：%(name)s，此人不能再登录") % {"name": person.name}
            )
    return redirect("org:person_detail", pk=person.pk)


@login_required
def person_password(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator sets a new password (also lifts a lockout)."""
    _require(request, *MANAGERS)
    person = get_object_or_404(Person.objects.restrict(request.user, "change"), pk=pk)
    form = PasswordResetForm(*_bound(request), person=person)
    if request.method == "POST" and form.is_valid():
        actions.set_password(
            actor=request.user, person=person, password=form.cleaned_data["password1"]
        )
        messages.success(
            request,
            _("已为 %(name)s 设置新密码，请当面或通过单位内部渠道告知本人") % {"name": person.name},
        )
        return redirect("org:person_detail", pk=person.pk)
    return render(request, "org/person_password.html", {"form": form, "person": person})


# --- roster (XLSX) -----------------------------------------------------------------


@login_required
def roster_export(request: HttpRequest) -> HttpResponse:
    _require(request, *READERS)
    unit = None
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        unit = get_object_or_404(Unit.objects.restrict(request.user, "view"), pk=unit_id)
    data = roster.export_roster(request.user, unit=unit)
    scope = (
        unit.short_name
        if unit
        else (request.user.unit.short_name if request.user.unit_id else "全部")
    )
    filename = f"名册-{scope}-{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(data, content_type=roster.XLSX_MIME)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def roster_import(request: HttpRequest) -> HttpResponse:
    """Upload a roster: every row is checked; bad rows are listed, good files previewed."""
    _require(request, *MANAGERS)
    form = RosterUploadForm(*_bound(request, files=True))
    context: dict = {"form": form}
    if request.method == "POST":
        request.session.pop(ROSTER_SESSION_KEY, None)  # a new upload replaces any earlier preview
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(roster.MAX_BYTES + 1)
        context["filename"] = upload.name
        try:
            # The zip directory only: whether the workbook is refused, or so
            # large that it is read in the background instead of on this thread.
            info = inspect(data, roster.LIMITS)
            if not info.inline:
                return views_uploads.start_roster_upload(request, upload.name, data, info)
            plan = roster.plan_import(data, user=request.user)
        except WorkbookRefused as exc:
            context["file_error"] = str(exc)
        except roster.RosterFileError as exc:
            context["file_error"] = str(exc)
        else:
            context["plan"] = plan
            if plan.ok and plan.has_changes:
                request.session[ROSTER_SESSION_KEY] = {
                    "data": roster.encode_upload(data),
                    "name": upload.name,
                }
                form = RosterUploadForm()
                context["form"] = form
    return render(request, "org/roster_import.html", context)


@login_required
@require_POST
def roster_confirm(request: HttpRequest) -> HttpResponse:
    """Apply the previewed roster in one transaction, or nothing."""
    _require(request, *MANAGERS)
    stored = request.session.get(ROSTER_SESSION_KEY)
    if not stored:
        messages.error(request, _("没有待确认的名册（可能已导入或已过期），请重新上传"))
        return redirect("org:roster_import")
    data = roster.decode_upload(stored["data"])
    context: dict = {"form": RosterUploadForm(), "filename": stored["name"]}
    try:
        plan = roster.apply_import(
            data,
            user=request.user,
            actor=request.user,
            expected_digest=request.POST.get("digest", ""),
        )
    except roster.RosterChanged as exc:
        context["plan"] = exc.plan
        context["changed_since_preview"] = True
        return render(request, "org/roster_import.html", context)
    except roster.RosterInvalid as exc:
        request.session.pop(ROSTER_SESSION_KEY, None)
        context["plan"] = exc.plan
        return render(request, "org/roster_import.html", context)
    except roster.RosterFileError as exc:
        request.session.pop(ROSTER_SESSION_KEY, None)
        context["file_error"] = str(exc)
        return render(request, "org/roster_import.html", context)
    request.session.pop(ROSTER_SESSION_KEY, None)
    messages.success(request, _("名册已导入。%(summary)s") % {"summary": plan.summary()})
    context["result"] = plan
    context["new_people"] = Person.objects.restrict(request.user, "view").filter(
        username__in=[c.key for c in plan.people if c.op == "create"]
    )
    return render(request, "org/roster_import.html", context)
